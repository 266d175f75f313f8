CREATE TABLE `__new_used_tokens` (
	`jti` text NOT NULL,
	`issuer` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
-- Only the ids of unexpired tokens are worth keeping (expires_at is in ms): the old table was never pruned.
INSERT INTO `__new_used_tokens`("jti", "issuer", "expires_at") SELECT "jti", "issuer", "expires_at" FROM `used_tokens` WHERE "expires_at" > CAST(strftime('%s', 'now') AS INTEGER) * 1000;--> statement-breakpoint
DROP TABLE `used_tokens`;--> statement-breakpoint
ALTER TABLE `__new_used_tokens` RENAME TO `used_tokens`;--> statement-breakpoint
CREATE INDEX `used_tokens_expires_at` ON `used_tokens` (`expires_at`);