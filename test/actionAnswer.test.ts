/**
 * The human lines of the changing commands (`agctl pause|resume`, `agctl group create|update|join|leave|
 * remove-member`), the API's answer unchanged with `--output json|yaml`, errors on stderr, and a bad --output
 * refused before anything is asked.
 */
import { describe, expect, it } from 'vitest';
import {
  groupCreatedLine,
  groupJoinedLine,
  groupLeftLine,
  groupUpdatedLine,
  maintenanceLine,
  memberRemovedLine,
  printActionAnswer,
} from '../src/cli/actionAnswer.js';
import { groupCommand } from '../src/cli/groupCommand.js';
import { pauseCommand, resumeCommand } from '../src/cli/maintenanceCommand.js';
import { toYaml } from '../src/cli/toYaml.js';
import { captureCli } from './support/networkedGroup.js';

const GROUP = {
  configuration: { group_fqdn: 'app.example.test' },
  member_details: { primary: { node_id: 'a', address: '127.0.0.2', port: 8080, scheme: 'http' }, secondary: { node_id: 'b', address: '127.0.0.3', port: 8080, scheme: 'http' } },
};

describe('human lines of the changing commands', () => {
  it('pause and resume say what happened, who asked and the version', () => {
    expect(maintenanceLine({ message: 'Maintenance mode on: automatic takeover is paused group-wide.', enabled: true, by: 'a', version: 3 })).toBe(
      'paused: automatic takeover is suspended group-wide (by a, version 3)',
    );
    expect(maintenanceLine({ message: 'Maintenance mode off: automatic takeover is resumed.', enabled: false, by: 'b', version: 4 })).toBe(
      'resumed: automatic takeover works again group-wide (by b, version 4)',
    );
    expect(maintenanceLine({ enabled: true })).toBe('paused: automatic takeover is suspended group-wide');
    expect(maintenanceLine({ message: 'Something else.' })).toBe('Something else.');
  });

  it('create and join name the group and its members from GET /group, else the answer message', () => {
    expect(groupCreatedLine({ message: 'Availability group created.' }, { ...GROUP, member_details: { primary: GROUP.member_details.primary, secondary: null } })).toBe(
      'group created: app.example.test, a is Primary',
    );
    expect(groupCreatedLine({ message: 'Availability group created.' }, null)).toBe('Availability group created.');
    expect(groupJoinedLine({ message: 'Joined.' }, GROUP)).toBe('b joined app.example.test as Secondary; a is Primary');
    expect(groupJoinedLine({ message: 'Joined.' }, { ...GROUP, member_details: { primary: GROUP.member_details.primary, secondary: null } })).toBe('Joined.');
  });

  it('update says whether the Secondary runs the settings now, and where a Secondary forwarded them', () => {
    expect(groupUpdatedLine({ message: 'Availability group configuration updated.', secondary: 'updated' })).toBe('group settings updated; the Secondary runs them now');
    expect(groupUpdatedLine({ secondary: 'updated', forwarded_to: 'a' })).toBe('group settings updated on the Primary a; the Secondary runs them now');
    expect(groupUpdatedLine({ secondary: 'pending', reason: 'b is unreachable' })).toBe(
      'group settings updated; the Secondary gets them with its next acknowledged heartbeat (b is unreachable)',
    );
    expect(groupUpdatedLine({ secondary: 'none' })).toBe('group settings updated; there is no Secondary to tell');
    expect(groupUpdatedLine({ message: 'Odd.' })).toBe('Odd.');
  });

  it('leave and remove-member say what the other member made of it', () => {
    expect(groupLeftLine({ message: 'Node left the availability group.', peer: 'notified' })).toBe('left the group; the other member was told');
    expect(groupLeftLine({ peer: 'unreachable', reason: 'connect ECONNREFUSED 127.0.0.3:8080' })).toBe(
      'left the group; the other member could not be reached (connect ECONNREFUSED 127.0.0.3:8080)',
    );
    expect(groupLeftLine({ peer: 'none' })).toBe('left the group; there was no other member to tell');
    expect(memberRemovedLine('b', { peer: 'refused', reason: 'not b' })).toBe('b removed from the group; it refused (not b)');
    expect(memberRemovedLine('b', { peer: 'notified' })).toBe('b removed from the group; it was told');
  });
});

describe('printActionAnswer', () => {
  const answer = { status: 200, body: { message: 'Maintenance mode on: automatic takeover is paused group-wide.', enabled: true, by: 'a', version: 1 } };

  it('prints the human line by default, the API answer unchanged as JSON or YAML', async () => {
    const table = await captureCli(() => printActionAnswer('pause', answer, 'table', () => maintenanceLine(answer.body)));
    expect(table).toEqual({ code: 0, stdout: 'paused: automatic takeover is suspended group-wide (by a, version 1)\n', stderr: '' });
    const json = await captureCli(() => printActionAnswer('pause', answer, 'json', () => 'unused'));
    expect(json.stdout).toBe(`${JSON.stringify(answer.body, null, 2)}\n`);
    expect(JSON.parse(json.stdout)).toEqual(answer.body);
    const yaml = await captureCli(() => printActionAnswer('pause', answer, 'yaml', () => 'unused'));
    expect(yaml.stdout).toBe(toYaml(answer.body));
  });

  it('an error answer goes to stderr with exit 1, whatever the format', async () => {
    const refused = { status: 409, body: { code: 'Conflict', message: 'This node is not in an availability group.' } };
    for (const format of ['table', 'json'] as const) {
      const printed = await captureCli(() => printActionAnswer('pause', refused, format, () => 'unused'));
      expect(printed, format).toEqual({ code: 1, stdout: '', stderr: 'agctl pause: 409 This node is not in an availability group.\n' });
    }
  });

  it('a bad --output is a usage error (exit 2) before any call', async () => {
    // Port 9 on 127.0.0.1 (discard) is never asked: the format is checked first.
    for (const command of [pauseCommand, resumeCommand]) {
      const printed = await captureCli(() => command.run(['--url', 'http://127.0.0.1:9', '--token', 't', '-o', 'xml']));
      expect(printed.code, command.name).toBe(2);
      expect(printed.stderr, command.name).toMatch(/--output must be table, json or yaml \(got "xml"\)/);
    }
    const group = await captureCli(() => groupCommand.run(['leave', '--url', 'http://127.0.0.1:9', '--token', 't', '--output', 'xml']));
    expect(group.code).toBe(2);
    expect(group.stderr).toMatch(/--output must be table, json or yaml/);
  });
});
