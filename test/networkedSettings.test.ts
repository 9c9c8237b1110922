/**
 * `startNetworkedNode` takes typed settings (`ConfigFileInput`): a misspelt field does not compile, and settings that
 * get past the types (JSON from a file) are still validated at run time, before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../src/api/errors.js';
import { startNetworkedNode } from '../src/http/networkedNode.js';
import type { ConfigFileInput } from '../src/node/settings.js';

const valid = {
  node_id: 'a',
  external_ipv4_address: '127.0.0.2',
  dns_server: '127.0.0.1:5353',
  api_token: 'an-api-token-0123456789',
  peer_secret: 'a-peer-secret-0123456789',
} satisfies ConfigFileInput;

/** Never called: `npm run typecheck` fails if a typo compiles or a secret file field does not. */
export function typeChecks(): void {
  // @ts-expect-error a misspelt setting is a compile error
  void startNetworkedNode({ ...valid, heath_report_interval: 1 });
  // @ts-expect-error a setting of the wrong type is a compile error
  void startNetworkedNode({ ...valid, health_report_interval: '1' });
  void startNetworkedNode({ ...valid, api_token: undefined, api_token_file: '/etc/agnode/api-token' });
}

describe('startNetworkedNode settings', () => {
  it('refuses at run time, naming the field, what the types would have caught', async () => {
    const fromJson: unknown = JSON.parse(JSON.stringify({ ...valid, heath_report_interval: 1 }));
    const refused = await startNetworkedNode(fromJson as ConfigFileInput).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(SettingsError);
    expect((refused as SettingsError).issues).toEqual([{ field: 'heath_report_interval', rule: 'is not a known setting' }]);
  });
});
