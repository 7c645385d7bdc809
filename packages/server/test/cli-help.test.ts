import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../src/cli/command-table.ts';
import { run } from '../src/cli/run.ts';
import { type CommandSpec, type FlagSpec, GLOBAL_FLAGS, isGroup } from '../src/cli/spec.ts';
import { CLI_BIN, type CliRun, runCli } from './helpers/cli.ts';

/**
 * Help, parsing and completion come from one command table. These tests are about parsing and output,
 * so most run the CLI in this process (`run` is what bin/gatehouse.js calls): spawning Node and tsx costs
 * seconds each. A few spawn it as a user would, to prove the same through the real entry point.
 */

const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-help-'));
/** Never created: every run here must stop before it opens a database. */
const DATABASE = join(cwd, 'never-created.db');
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** Runs `gatehouse args` in this process, capturing what it writes. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  vi.stubEnv('GATEHOUSE_DATABASE_URL', DATABASE);
  vi.stubEnv('GATEHOUSE_SECRET', 'cli-help-test-secret-cli-help-test-secret');
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const capture = (into: string[]) => (chunk: string | Uint8Array) => {
    into.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture(stdout));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture(stderr));
  try {
    const code = await run(args);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Every runnable command of the table, with the words that name it. */
const LEAVES: { path: string[]; spec: CommandSpec }[] = COMMANDS.flatMap((entry) =>
  isGroup(entry)
    ? entry.subcommands.map((spec) => ({ path: [entry.name, spec.name], spec }))
    : [{ path: [entry.name], spec: entry }],
);
const flagsOf = (spec: CommandSpec) => Object.entries(spec.flags as Record<string, FlagSpec>);

describe('gatehouse help', () => {
  it('gatehouse --help lists every command and subcommand, with every one of its flags', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    // Each command's line, then its flags on the lines under it, before the next command.
    const blocks = help.stdout.split(/\n(?= {2}\S)/);
    for (const { path, spec } of LEAVES) {
      const block = blocks.find((b) => b.trimStart().startsWith(`${path.join(' ')} `));
      expect(block, path.join(' ')).toBeDefined();
      expect(block).toContain(spec.summary.split(' ').slice(0, 4).join(' '));
      for (const [name] of flagsOf(spec)) expect(block, `${path.join(' ')} --${name}`).toContain(`--${name}`);
    }
    for (const name of Object.keys(GLOBAL_FLAGS)) expect(help.stdout).toContain(`--${name}`);
    // The commands the issue asked for, by name.
    for (const command of [
      'tenants list',
      'workspaces list',
      'users list',
      'keys show',
      'audit list',
      'token',
      'completion',
    ])
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
  });

  it('gatehouse <command> <sub> --help lists each flag of the command with its description', async () => {
    for (const { path, spec } of LEAVES) {
      const help = await cli([...path, '--help']);
      expect(help.code, path.join(' ')).toBe(0);
      expect(help.stdout).toContain(`gatehouse ${path.join(' ')}: ${spec.summary}`);
      for (const [name, flag] of [...flagsOf(spec), ...Object.entries(GLOBAL_FLAGS)]) {
        const line = help.stdout.split('\n').find((l) => l.trimStart().startsWith(`--${name}`));
        expect(line, `${path.join(' ')} --${name}`).toBeDefined();
        expect(line).toContain(flag.description);
        if ('required' in flag && flag.required) expect(line).toContain(`required: ${flag.description}`);
      }
      if (spec.positional) expect(help.stdout).toContain(spec.positional.description);
    }
  });

  it('help, -h, help <command> and <command> --help print the same text', async () => {
    const [root, short, word] = await Promise.all([cli(['--help']), cli(['-h']), cli(['help'])]);
    expect(short.stdout).toBe(root.stdout);
    expect(word.stdout).toBe(root.stdout);
    const [group, groupWord] = [await cli(['keys', '--help']), await cli(['help', 'keys'])];
    expect(groupWord.stdout).toBe(group.stdout);
    for (const sub of ['create', 'list', 'show', 'update', 'revoke', 'rotate'])
      expect(group.stdout).toMatch(new RegExp(`^ {2}keys ${sub} `, 'm'));
    const [leaf, leafWord, leafShort] = [
      await cli(['keys', 'create', '--help']),
      await cli(['help', 'keys', 'create']),
      await cli(['keys', 'create', '--tenant', '1', '-h']),
    ];
    expect(leafWord.stdout).toBe(leaf.stdout);
    expect(leafShort.stdout).toBe(leaf.stdout);
    expect((await cli(['help', 'kyes'])).code).toBe(2);
  });

  it('help --json prints the command table itself', async () => {
    const help = await cli(['help', '--json']);
    expect(help.code).toBe(0);
    const table = JSON.parse(help.stdout);
    const keys = table.commands.find((c: { name: string }) => c.name === 'keys');
    expect(keys.subcommands.map((s: { name: string }) => s.name)).toEqual([
      'create',
      'list',
      'show',
      'update',
      'revoke',
      'rotate',
    ]);
    expect(keys.subcommands[0].flags.tenant).toMatchObject({ type: 'string', required: true });
    expect(Object.keys(table.globalFlags)).toEqual(['json', 'quiet', 'help']);
  });
});

describe('gatehouse usage errors', () => {
  it.each([
    [['kyes', 'list'], 'unknown command "kyes"; did you mean keys?'],
    [['frobnicate'], 'unknown command "frobnicate"; run gatehouse --help for the list'],
    [['keys', 'lst'], 'unknown subcommand "lst" of keys; did you mean keys list?'],
    [
      ['members', 'promote', '--tenant', '1'],
      'unknown subcommand "promote" of members; choose list, add, update or remove (run gatehouse members --help)',
    ],
    [
      ['keys'],
      'keys needs a subcommand (create, list, show, update, revoke or rotate); run gatehouse keys --help',
    ],
    [['keys', 'list', '--tenent', '1'], 'unknown option --tenent for keys list; did you mean --tenant?'],
    [
      ['keys', 'create', '--tenant', '1', '--work', '2'],
      'unknown option --work for keys create; did you mean --workspace?',
    ],
    [
      ['keys', 'list', '--tenant', '1', '--frobnicate'],
      'unknown option --frobnicate for keys list; run gatehouse keys list --help',
    ],
    [
      ['keys', 'list', '--tenant', '1', '-x'],
      'unknown option -x for keys list; run gatehouse keys list --help',
    ],
    [['keys', 'list'], 'keys list needs --tenant ID; run gatehouse keys list --help'],
    [['token', '--issuer', 'http://127.0.0.1:1'], 'token needs --public-key P; run gatehouse token --help'],
    [['keys', 'list', '--tenant'], '--tenant needs a value (ID)'],
    [['keys', 'create', '--label', '--tenant', '1'], '--label needs a value (TEXT), not --tenant'],
    [
      ['keys', 'create', '--tenant', '1', '--permissions', 'root'],
      '--permissions must be read, write or admin',
    ],
    [['keys', 'list', '--tenant', '1', '--status', 'dormant'], '--status must be active, revoked or expired'],
    [
      ['members', 'add', '--tenant', '1', '--email', 'a@b.c', '--role', 'boss'],
      '--role must be owner, admin or member',
    ],
    [['keys', 'list', '--tenant', '1', '--tenant', '2'], '--tenant is given twice; give it once'],
    [['keys', 'list', '--tenant', '1', '--json=yes'], '--json takes no value'],
    [['keys', 'show'], 'keys show takes one PUBLIC_KEY; run gatehouse keys show --help'],
    [['keys', 'show', 'gpk_a', 'gpk_b'], 'keys show takes one PUBLIC_KEY, not 2'],
    [['tenants', 'list', 'extra'], 'unexpected argument "extra" for tenants list'],
    [['completion', 'fish'], 'SHELL must be bash or zsh'],
    [['keys', 'create', '--tenant', 'abc'], '--tenant must be a positive integer'],
    [['keys', 'update', 'gpk_a'], 'nothing to change'],
    [
      ['keys', 'update', 'gpk_a', '--no-expiry', '--expires-in', '1d'],
      'give one of --expires-in, --expires-at and --no-expiry',
    ],
    [['members', 'update', '2', '--tenant', '1'], 'nothing to change'],
    [['members', 'update', 'me', '--tenant', '1', '--role', 'admin'], 'USER_ID must be a positive integer'],
    [['workspaces', 'update', '2', '--tenant', '1'], 'nothing to change'],
    [
      ['workspaces', 'update', '2', '--tenant', '1', '--retention-days', '-3'],
      '--retention-days needs a value (N), not -3',
    ],
    [
      ['workspaces', 'update', '2', '--tenant', '1', '--retention-days=-3'],
      '--retention-days must be a whole number of days',
    ],
    [['audit', 'list', '--tenant', '1', '--from', 'yesterday'], '--from must be an ISO 8601 date and time'],
    [['audit', 'list', '--tenant', '1', '--to', '31/01/2027'], '--to must be an ISO 8601 date and time'],
    [['audit', 'list', '--tenant', '1', '--size', '501'], '--size must be at most 500'],
    [['audit', 'list', '--tenant', '1', '--page', '0'], '--page must be a positive integer'],
  ])('gatehouse %j: exit 2, "%s" as one line on stderr, nothing on stdout', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(`gatehouse: ${message}`), result.stderr).toBe(true);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    const asJson = await cli([...args, '--json']);
    expect(asJson.code).toBe(2);
    expect(asJson.stdout).toBe('');
    expect(JSON.parse(asJson.stderr)).toEqual({
      error: { code: 'usage', message: expect.stringContaining(message) },
    });
    expect(existsSync(DATABASE)).toBe(false);
  });

  it('gatehouse alone prints the help on stderr and exits 2', async () => {
    const alone = await cli([]);
    expect(alone.code).toBe(2);
    expect(alone.stdout).toBe('');
    expect(alone.stderr).toBe((await cli(['--help'])).stdout);
  });

  it('--json and --quiet may come before the command', async () => {
    const before = await cli(['--json', 'keys', 'list']);
    expect(before.code).toBe(2);
    expect(JSON.parse(before.stderr).error.code).toBe('usage');
  });

  it.each([
    ['GATEHOUSE_PORT', 'not-a-port'],
    ['GATEHOUSE_MODE', 'staging'],
    ['GATEHOUSE_SECRET', 'short'],
    ['GATEHOUSE_LOG_LEVEL', 'loud'],
  ])('a bad %s stops the command with exit 2 naming it, before any database', async (variable, value) => {
    const [human, asJson] = [
      await cli(['keys', 'list', '--tenant', '1'], { [variable]: value }),
      await cli(['keys', 'list', '--tenant', '1', '--json'], { [variable]: value }),
    ];
    expect(human.code).toBe(2);
    expect(human.stderr).toContain(variable);
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stderr).error).toEqual({
      code: 'config',
      message: expect.stringContaining(variable),
    });
    expect(readdirSync(cwd)).toEqual([]);
  });
});

/** Runs a bash script and returns its stdout. */
function bash(script: string): Promise<string> {
  return new Promise((done, fail) =>
    execFile('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '' } }, (error, stdout, stderr) =>
      error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout),
    ),
  );
}

const HAS_ZSH = spawnSync('zsh', ['--version']).status === 0;

/** Checks a script with `zsh -n` (syntax only: completion itself needs a terminal). */
function zsh(script: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = execFile('zsh', ['-n'], (error, _stdout, stderr) =>
      error ? fail(new Error(`${error.message}\n${stderr}`)) : done(),
    );
    child.stdin?.end(script);
  });
}

describe('gatehouse as a user runs it', () => {
  it('--help exits 0 with every command; a typo or a bad setting exits 2 with one line on stderr', async () => {
    const env = { GATEHOUSE_DATABASE_URL: DATABASE };
    const [help, typo, flag, setting] = await Promise.all([
      runCli(['--help'], env, cwd),
      runCli(['kyes', 'list'], env, cwd),
      runCli(['keys', 'list', '--tenent', '1'], env, cwd),
      runCli(['keys', 'list', '--tenant', '1', '--json'], { ...env, GATEHOUSE_PORT: 'not-a-port' }, cwd),
    ]);
    expect([setting.code, setting.stdout]).toEqual([2, '']);
    expect(JSON.parse(setting.stderr).error).toMatchObject({ code: 'config', message: /GATEHOUSE_PORT/ });
    expect(help.code).toBe(0);
    expect(help.stdout).toBe((await cli(['--help'])).stdout);
    expect([typo.code, typo.stdout, typo.stderr]).toEqual([
      2,
      '',
      'gatehouse: unknown command "kyes"; did you mean keys?\n',
    ]);
    expect([flag.code, flag.stdout, flag.stderr]).toEqual([
      2,
      '',
      'gatehouse: unknown option --tenent for keys list; did you mean --tenant?\n',
    ]);
    expect(existsSync(DATABASE)).toBe(false);
  });

  it('completion bash completes commands, subcommands, flags and flag values from the table', async () => {
    const complete = (line: string) =>
      `COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _gatehouse; echo "\${COMPREPLY[*]}"`;
    const output = await bash(
      [
        `eval "$('${process.execPath}' '${CLI_BIN}' completion bash)"`,
        complete('gatehouse ke'),
        complete('gatehouse keys cr'),
        complete('gatehouse keys create --te'),
        complete("gatehouse keys create --permissions ''"),
        complete("gatehouse completion ''"),
        complete('gatehouse init --'),
        complete('gatehouse signing-keys ro'),
      ].join('\n'),
    );
    expect(output.split('\n').slice(0, 7)).toEqual([
      'keys',
      'create',
      '--tenant',
      'read write admin',
      'bash zsh --json --quiet --help',
      '--email --organization --password --workspace --json --quiet --help',
      'rotate',
    ]);
  });

  it('completion zsh covers every command of the table', async () => {
    const script = (await cli(['completion', 'zsh'])).stdout;
    expect(script).toMatch(/^#compdef gatehouse\n/);
    for (const { path, spec } of LEAVES) {
      expect(script).toContain(`${path.at(-1)})`);
      for (const [name] of flagsOf(spec)) expect(script).toContain(`--${name}[`);
    }
  });

  it.skipIf(!HAS_ZSH)('completion zsh is a script zsh accepts [skipped without zsh]', async () => {
    await zsh((await cli(['completion', 'zsh'])).stdout);
  });
});
