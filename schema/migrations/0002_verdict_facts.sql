ALTER TABLE `certificate_events` ADD `key_id` text;--> statement-breakpoint
ALTER TABLE `certificate_events` ADD `logged_at` integer;--> statement-breakpoint
ALTER TABLE `certificates` ADD `key_id` text;--> statement-breakpoint
ALTER TABLE `certificates` ADD `event_count` integer;--> statement-breakpoint
ALTER TABLE `certificates` ADD `state_at` integer;--> statement-breakpoint
ALTER TABLE `certificates` ADD `state` text;--> statement-breakpoint
-- Backfill of the verdict facts on rows written before this migration, computed from the logged entries exactly as
-- the registry computes them when it writes (RegistryStore.insertCertificate / insertEvent, foldState).
UPDATE `certificate_events` SET
	`key_id` = substr(json_extract(CAST(`log_entries`.`data` AS TEXT), '$.body.proof.verificationMethod'), instr(json_extract(CAST(`log_entries`.`data` AS TEXT), '$.body.proof.verificationMethod'), '#') + 1),
	`logged_at` = json_extract(CAST(`log_entries`.`data` AS TEXT), '$.loggedAt')
FROM `log_entries`
WHERE `log_entries`.`idx` = `certificate_events`.`idx` AND `certificate_events`.`key_id` IS NULL;
--> statement-breakpoint
UPDATE `certificates` SET
	`key_id` = substr(json_extract(CAST(`issued`.`data` AS TEXT), '$.body.proof.verificationMethod'), instr(json_extract(CAST(`issued`.`data` AS TEXT), '$.body.proof.verificationMethod'), '#') + 1),
	`event_count` = (SELECT count(*) FROM `certificate_events` `e` WHERE `e`.`issuer` = `certificates`.`issuer` AND `e`.`number` = `certificates`.`number`),
	`state_at` = json_extract(CAST((SELECT `data` FROM `log_entries` WHERE `idx` = `certificates`.`last_index`) AS TEXT), '$.loggedAt'),
	`state` = json_object(
		'certificate', json_object(
			'validFrom', json_extract(CAST(`issued`.`data` AS TEXT), '$.body.validFrom'),
			-- validUntil of the last recertification, else of the certificate
			'validUntil', coalesce(
				(SELECT json_extract(CAST(`l`.`data` AS TEXT), '$.body.validUntil') FROM `certificate_events` `e` JOIN `log_entries` `l` ON `l`.`idx` = `e`.`idx`
				 WHERE `e`.`issuer` = `certificates`.`issuer` AND `e`.`number` = `certificates`.`number` AND `e`.`kind` = 'recertified' ORDER BY `e`.`idx` DESC LIMIT 1),
				json_extract(CAST(`issued`.`data` AS TEXT), '$.body.validUntil')),
			-- scope of the last scope change, else of the certificate
			'scope', coalesce(
				(SELECT json_extract(CAST(`l`.`data` AS TEXT), '$.body.scope') FROM `certificate_events` `e` JOIN `log_entries` `l` ON `l`.`idx` = `e`.`idx`
				 WHERE `e`.`issuer` = `certificates`.`issuer` AND `e`.`number` = `certificates`.`number` AND `e`.`kind` = 'scope-changed' ORDER BY `e`.`idx` DESC LIMIT 1),
				json_extract(CAST(`issued`.`data` AS TEXT), '$.body.credentialSubject.certificate.scope')),
			'surveillance', json_object(
				'intervalMonths', json_extract(CAST(`issued`.`data` AS TEXT), '$.body.credentialSubject.certificate.surveillance.intervalMonths'),
				-- nextDueBy of the last audit that did not fail, else firstDueBy of the certificate
				'firstDueBy', coalesce(
					(SELECT json_extract(CAST(`l`.`data` AS TEXT), '$.body.audit.nextDueBy') FROM `certificate_events` `e` JOIN `log_entries` `l` ON `l`.`idx` = `e`.`idx`
					 WHERE `e`.`issuer` = `certificates`.`issuer` AND `e`.`number` = `certificates`.`number` AND `e`.`kind` = 'surveillance-audit'
					   AND json_extract(CAST(`l`.`data` AS TEXT), '$.body.audit.outcome') <> 'failed' ORDER BY `e`.`idx` DESC LIMIT 1),
					json_extract(CAST(`issued`.`data` AS TEXT), '$.body.credentialSubject.certificate.surveillance.firstDueBy')))),
		-- the suspension still in force (no later suspension or reinstatement) and the revocation, in log order
		'events', json((SELECT json_group_array(json_object(
				'kind', `e`.`kind`,
				'loggedAt', `e`.`logged_at`,
				'effective', json_extract(CAST(`l`.`data` AS TEXT), '$.body.effective'),
				'reason', coalesce(json_extract(CAST(`l`.`data` AS TEXT), '$.body.reason'), '')))
			FROM `certificate_events` `e` JOIN `log_entries` `l` ON `l`.`idx` = `e`.`idx`
			WHERE `e`.`issuer` = `certificates`.`issuer` AND `e`.`number` = `certificates`.`number`
			  AND ((`e`.`kind` = 'revoked' AND NOT EXISTS (SELECT 1 FROM `certificate_events` `r` WHERE `r`.`issuer` = `e`.`issuer`
					AND `r`.`number` = `e`.`number` AND `r`.`kind` = 'revoked' AND `r`.`idx` > `e`.`idx`))
				OR (`e`.`kind` = 'suspended' AND NOT EXISTS (SELECT 1 FROM `certificate_events` `r` WHERE `r`.`issuer` = `e`.`issuer`
					AND `r`.`number` = `e`.`number` AND `r`.`kind` IN ('suspended', 'reinstated') AND `r`.`idx` > `e`.`idx`))))))
FROM `log_entries` AS `issued`
WHERE `issued`.`idx` = `certificates`.`issued_index` AND `certificates`.`state` IS NULL;
