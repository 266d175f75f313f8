CREATE TABLE `certificate_events` (
	`idx` integer PRIMARY KEY NOT NULL,
	`issuer` text NOT NULL,
	`number` text NOT NULL,
	`kind` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `certificate_events_certificate` ON `certificate_events` (`issuer`,`number`,`idx`);--> statement-breakpoint
CREATE TABLE `certificate_models` (
	`digest` text NOT NULL,
	`issuer` text NOT NULL,
	`number` text NOT NULL,
	PRIMARY KEY(`digest`, `issuer`, `number`)
);
--> statement-breakpoint
CREATE TABLE `certificate_standards` (
	`standard` text NOT NULL,
	`issuer` text NOT NULL,
	`number` text NOT NULL,
	PRIMARY KEY(`standard`, `issuer`, `number`)
);
--> statement-breakpoint
CREATE TABLE `certificates` (
	`issuer` text NOT NULL,
	`number` text NOT NULL,
	`issued_index` integer NOT NULL,
	`logged_at` integer NOT NULL,
	`last_index` integer NOT NULL,
	`last_leaf_hash` blob NOT NULL,
	`lifecycle` text NOT NULL,
	`organization` text NOT NULL,
	`system_name` text NOT NULL,
	`valid_from` integer NOT NULL,
	`valid_until` integer NOT NULL,
	PRIMARY KEY(`issuer`, `number`)
);
--> statement-breakpoint
CREATE INDEX `certificates_issued_index` ON `certificates` (`issued_index`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`issuer` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` blob NOT NULL,
	`entry_index` integer NOT NULL,
	PRIMARY KEY(`issuer`, `key`)
);
--> statement-breakpoint
CREATE TABLE `issuer_keys` (
	`issuer` text NOT NULL,
	`key_id` text NOT NULL,
	`public_key` blob NOT NULL,
	`added_index` integer NOT NULL,
	`added_at` integer NOT NULL,
	`revoked_index` integer,
	`revoked_at` integer,
	`compromised_at` integer,
	PRIMARY KEY(`issuer`, `key_id`)
);
--> statement-breakpoint
CREATE TABLE `issuers` (
	`slug` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`managed_signing` integer NOT NULL,
	`registered_index` integer NOT NULL,
	`registered_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `used_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`issuer` text NOT NULL,
	`expires_at` integer NOT NULL
);
