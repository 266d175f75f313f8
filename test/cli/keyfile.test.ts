// Managed signing keys on disk (src/cli/keyfile.ts fileManagedKeyStore): parsed once and kept while the file is
// unchanged (one seed object, so signing imports the key once), reread when the file is replaced, forgotten when it
// is removed.
import { rmSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyFile, fileManagedKeyStore } from '../../src/cli/keyfile.js';
import { tempDir } from '../support/registry.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

describe('fileManagedKeyStore', () => {
  it('keeps the parsed key while its file is unchanged and rereads a replaced one', async () => {
    const dir = tempDir('certrail-managed-');
    dirs.push(dir);
    const store = fileManagedKeyStore(join(dir.path, 'managed'));
    expect(await store.get('acme')).toBeNull();

    const created = await store.create('acme', 'key-1');
    const first = await store.get('acme');
    expect(first).toMatchObject({ keyId: 'key-1' });
    expect(first!.seed).toEqual(created.seed);
    expect((await store.get('acme'))!.seed).toBe(first!.seed);

    // An operator replaces the file (a rotation done by hand): the next signature uses the new key.
    const replacement = join(dir.path, 'replacement.key');
    const rotated = await createKeyFile(replacement, 'acme.key-2');
    renameSync(replacement, join(dir.path, 'managed', 'acme.key'));
    const second = await store.get('acme');
    expect(second).toMatchObject({ keyId: 'key-2' });
    expect(second!.seed).toEqual(rotated.seed);

    rmSync(join(dir.path, 'managed', 'acme.key'));
    expect(await store.get('acme')).toBeNull();
  });

  it('refuses a file holding another CB key, and does not keep the refusal', async () => {
    const dir = tempDir('certrail-managed-');
    dirs.push(dir);
    const store = fileManagedKeyStore(join(dir.path, 'managed'));
    await createKeyFile(join(dir.path, 'managed', 'acme.key'), 'other.key-1');
    await expect(store.get('acme')).rejects.toThrow(/does not hold a key of acme/);
    rmSync(join(dir.path, 'managed', 'acme.key'));
    await store.create('acme', 'key-1');
    expect(await store.get('acme')).toMatchObject({ keyId: 'key-1' });
  });
});
