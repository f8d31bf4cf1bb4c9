import type { Command, Option } from 'commander';

/** A command of the tree as completion sees it: its path of names after `rill`, subcommands and long flags. */
interface CompletionNode {
  readonly path: string;
  readonly subcommands: readonly { name: string; description: string }[];
  readonly options: readonly Option[];
  /** The values its positional arguments allow, when they are choices. */
  readonly argumentChoices: readonly string[];
}

function nodesOf(command: Command, path: string, into: CompletionNode[]): CompletionNode[] {
  const visible = command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  into.push({
    path,
    subcommands: visible.map((c) => ({ name: c.name(), description: c.summary() || c.description() })),
    options: command.options.filter((o) => !o.hidden && o.long !== undefined),
    argumentChoices: command.registeredArguments.flatMap((a) => a.argChoices ?? []),
  });
  for (const sub of visible) nodesOf(sub, path === '' ? sub.name() : `${path} ${sub.name()}`, into);
  return into;
}

/** A word in single quotes for sh, bash and zsh. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.replace(/:/g, '\\:');
}

/**
 * Shell functions both bash and zsh parse, generated from the command tree, each a `case` on the
 * command path (`streams reset`; empty for `rill` itself):
 *   _rill_subcommands PATH   lines `name:description`
 *   _rill_options PATH       lines `--flag:description`
 *   _rill_takes_value PATH FLAG   status 0 when FLAG takes a value
 *   _rill_variadic PATH FLAG      status 0 when FLAG takes several values
 *   _rill_choices PATH FLAG  the values FLAG allows, one per line (none: any value, files offered)
 *   _rill_arguments PATH     the values its positional arguments allow (none: files offered)
 */
function dataFunctions(program: Command): string {
  const nodes = nodesOf(program, '', []);
  const branch = (key: string, lines: readonly string[]): string => `    ${quote(key)}) printf '%s\\n' ${lines.map(quote).join(' ')} ;;`;
  const flagKeys = (predicate: (o: Option) => boolean): string[] => nodes.flatMap((n) => n.options.filter(predicate).map((o) => `${n.path}|${o.long}`));
  const caseOf = (name: string, subject: string, branches: string[]): string => [`${name}() {`, `  case ${subject} in`, ...branches, '  esac', '}'].join('\n');
  const status = (name: string, keys: string[]): string =>
    [`${name}() {`, '  case "$1|$2" in', ...(keys.length === 0 ? [] : [`    ${keys.map(quote).join('|')}) return 0 ;;`]), '  esac', '  return 1', '}'].join('\n');
  return [
    caseOf(
      '_rill_subcommands',
      '"$1"',
      nodes.filter((n) => n.subcommands.length > 0).map((n) => branch(n.path, n.subcommands.map((s) => `${s.name}:${firstLine(s.description)}`))),
    ),
    caseOf(
      '_rill_options',
      '"$1"',
      nodes.map((n) => branch(n.path, [...n.options.map((o) => `${o.long}:${firstLine(o.description)}`), '--help:display help for command'])),
    ),
    status('_rill_takes_value', flagKeys((o) => o.required || o.optional)),
    status('_rill_variadic', flagKeys((o) => o.variadic)),
    caseOf(
      '_rill_choices',
      '"$1|$2"',
      nodes.flatMap((n) => n.options.filter((o) => o.argChoices !== undefined).map((o) => branch(`${n.path}|${o.long}`, o.argChoices!))),
    ),
    caseOf(
      '_rill_arguments',
      '"$1"',
      nodes.filter((n) => n.argumentChoices.length > 0).map((n) => branch(n.path, n.argumentChoices)),
    ),
  ].join('\n\n');
}

/**
 * Walks the words before the cursor: sets _rill_path to the command path they name and
 * _rill_value_of to the flag whose value the cursor is on (empty when none). Shared by both shells;
 * `$@` holds the words from the one after `rill` up to, not including, the cursor's.
 */
const WALK = `_rill_walk() {
  _rill_path=''
  _rill_value_of=''
  local word sub expecting='' listing=''
  for word in "$@"; do
    if [ -n "$expecting" ]; then
      _rill_variadic "$_rill_path" "$expecting" && listing=$expecting
      expecting=''
      continue
    fi
    case "$word" in
      --*=*) listing='' ;;
      -*)
        listing=''
        _rill_takes_value "$_rill_path" "$word" && expecting=$word
        ;;
      *)
        [ -n "$listing" ] && continue
        for sub in $(_rill_subcommands "$_rill_path" | cut -d: -f1); do
          if [ "$sub" = "$word" ]; then
            _rill_path=\${_rill_path:+$_rill_path }$word
            break
          fi
        done
        ;;
    esac
  done
  _rill_value_of=\${expecting:-$listing}
}`;

const HEADER = (shell: string): string => `# rill completion for ${shell}, generated from the command tree by \`rill completion ${shell}\`.`;

/** The bash completion script: `source <(rill completion bash)`, or save it under bash-completion's completions directory. */
export function bashCompletionScript(program: Command): string {
  return `${HEADER('bash')}
${dataFunctions(program)}

${WALK}

_rill_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  _rill_walk "\${COMP_WORDS[@]:1:COMP_CWORD-1}"
  COMPREPLY=()
  if [ -n "$_rill_value_of" ] && [[ $cur != -* || $_rill_value_of == "\${COMP_WORDS[COMP_CWORD-1]}" ]]; then
    local choices
    choices=$(_rill_choices "$_rill_path" "$_rill_value_of")
    if [ -n "$choices" ]; then
      mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_rill_options "$_rill_path" | cut -d: -f1)" -- "$cur")
  else
    local subs
    subs=$(_rill_subcommands "$_rill_path" | cut -d: -f1)
    [ -n "$subs" ] || subs=$(_rill_arguments "$_rill_path")
    if [ -n "$subs" ]; then
      mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
  fi
}
complete -o filenames -F _rill_complete rill
`;
}

/** The zsh completion script: `source <(rill completion zsh)` after compinit, or save it as `_rill` on $fpath. */
export function zshCompletionScript(program: Command): string {
  return `#compdef rill
${HEADER('zsh')}
${dataFunctions(program)}

${WALK}

_rill() {
  local -a entries
  _rill_walk "\${(@)words[2,CURRENT-1]}"
  local cur=\${words[CURRENT]}
  if [[ -n $_rill_value_of && ( $cur != -* || $_rill_value_of == \${words[CURRENT-1]} ) ]]; then
    entries=(\${(f)"$(_rill_choices "$_rill_path" "$_rill_value_of")"})
    if (( \${#entries} )); then
      compadd -a entries
    else
      _files
    fi
  elif [[ $cur == -* ]]; then
    entries=(\${(f)"$(_rill_options "$_rill_path")"})
    _describe -t options 'option' entries
  else
    entries=(\${(f)"$(_rill_subcommands "$_rill_path")"})
    if (( \${#entries} )); then
      _describe -t commands 'command' entries
    else
      entries=(\${(f)"$(_rill_arguments "$_rill_path")"})
      if (( \${#entries} )); then
        compadd -a entries
      else
        _files
      fi
    fi
  fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _rill "$@"
else
  compdef _rill rill
fi
`;
}
