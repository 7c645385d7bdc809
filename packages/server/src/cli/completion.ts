import { type CommandSpec, type Entry, type Flags, GLOBAL_FLAGS, isGroup } from './spec.ts';

// Completion scripts are generated from the command table, as help and parsing are.

/** Every runnable command with its path: `init` is ['init'], `keys create` is ['keys', 'create']. */
function leaves(table: readonly Entry[]): { path: string[]; spec: CommandSpec }[] {
  return table.flatMap((entry) =>
    isGroup(entry)
      ? entry.subcommands.map((spec) => ({ path: [entry.name, spec.name], spec }))
      : [{ path: [entry.name], spec: entry }],
  );
}

const allFlags = (spec: CommandSpec): Flags => ({ ...(spec.flags as Flags), ...GLOBAL_FLAGS });

/** A bash word list in single quotes (names and choices hold no quote, but a description might). */
const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/** The bash script: `eval "$(gatehouse completion bash)"`, or saved under bash-completion's folder. */
export function bashCompletion(table: readonly Entry[]): string {
  const groups = table.filter(isGroup);
  const lines = [
    '# gatehouse completion for bash: eval "$(gatehouse completion bash)" in ~/.bashrc',
    '_gatehouse() {',
    `  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path words`,
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W ${quoted(table.map((e) => e.name).join(' '))} -- "$cur")); return`,
    '  fi',
    `  case "\${COMP_WORDS[1]}" in`,
    ...groups.map(
      (g) =>
        `    ${g.name}) if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W ${quoted(g.subcommands.map((s) => s.name).join(' '))} -- "$cur")); return; fi; path="${g.name} \${COMP_WORDS[2]}" ;;`,
    ),
    `    *) path="\${COMP_WORDS[1]}" ;;`,
    '  esac',
    '  case "$path $prev" in',
  ];
  for (const { path, spec } of leaves(table)) {
    for (const [name, flag] of Object.entries(spec.flags as Flags)) {
      if (flag.choices)
        lines.push(
          `    ${quoted(`${path.join(' ')} --${name}`)}) COMPREPLY=($(compgen -W ${quoted(flag.choices.join(' '))} -- "$cur")); return ;;`,
        );
    }
  }
  lines.push('  esac', '  case "$path" in');
  for (const { path, spec } of leaves(table)) {
    const words = Object.keys(allFlags(spec)).map((n) => `--${n}`);
    if (spec.positional?.choices) words.unshift(...spec.positional.choices);
    lines.push(`    ${quoted(path.join(' '))}) words=${quoted(words.join(' '))} ;;`);
  }
  lines.push(
    '    *) return ;;',
    '  esac',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    'complete -F _gatehouse gatehouse',
    '',
  );
  return lines.join('\n');
}

/** Escapes what zsh's `_describe` and `_arguments` read specially in a description. */
const zshText = (text: string) =>
  text.replaceAll("'", "'\\''").replaceAll(':', '\\:').replaceAll('[', '(').replaceAll(']', ')');

function zshArguments(spec: CommandSpec): string {
  const specs = Object.entries(allFlags(spec)).map(([name, flag]) => {
    const text = `[${zshText(flag.description)}]`;
    const value =
      flag.type === 'boolean'
        ? ''
        : `:${(flag.value ?? 'value').toLowerCase()}:${flag.choices ? `(${flag.choices.join(' ')})` : ''}`;
    return `'${flag.multiple ? '*' : ''}--${name}${text}${value}'`;
  });
  if (spec.positional)
    specs.push(
      `'1:${spec.positional.name.toLowerCase()}:${spec.positional.choices ? `(${spec.positional.choices.join(' ')})` : ''}'`,
    );
  return `_arguments -s ${specs.join(' ')}`;
}

/** The zsh script: `eval "$(gatehouse completion zsh)"` after compinit, or saved as `_gatehouse` in $fpath. */
export function zshCompletion(table: readonly Entry[]): string {
  const described = (items: { name: string; summary: string }[]) =>
    items.map((i) => `'${i.name}:${zshText(i.summary)}'`).join(' ');
  const lines = [
    '#compdef gatehouse',
    '# gatehouse completion for zsh: eval "$(gatehouse completion zsh)" in ~/.zshrc, after compinit',
    '_gatehouse() {',
    '  local -a items',
    '  if (( CURRENT == 2 )); then',
    `    items=(${described([...table])}); _describe command items; return`,
    '  fi',
    '  case $words[2] in',
  ];
  for (const entry of table) {
    if (!isGroup(entry)) {
      lines.push(`    ${entry.name}) shift words; (( CURRENT-- )); ${zshArguments(entry)} ;;`);
      continue;
    }
    lines.push(
      `    ${entry.name})`,
      '      if (( CURRENT == 3 )); then',
      `        items=(${described([...entry.subcommands])}); _describe subcommand items; return`,
      '      fi',
      '      shift 2 words; (( CURRENT -= 2 ))',
      '      case $words[1] in',
      ...entry.subcommands.map((sub) => `        ${sub.name}) ${zshArguments(sub)} ;;`),
      '      esac ;;',
    );
  }
  lines.push(
    '  esac',
    '}',
    // Loaded through eval rather than from $fpath: register the function by hand.
    'if [ "$funcstack[1]" = "_gatehouse" ]; then _gatehouse "$@"; else compdef _gatehouse gatehouse; fi',
    '',
  );
  return lines.join('\n');
}
