import { envVarOf, START_OPTIONS, type StartOptionDefinition } from './start-option-definitions.ts';

function typeText(definition: StartOptionDefinition): string {
  switch (definition.type) {
    case 'choice':
      return `one of ${definition.choices!.map((c) => `\`${c}\``).join(', ')}`;
    case 'list':
      return definition.choices === undefined ? 'list' : `list of ${definition.choices.map((c) => `\`${c}\``).join(', ')}`;
    case 'file':
      return 'file path';
    default:
      return definition.type;
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * The `rill start` settings as a markdown table (key, flag, environment variable, type, default,
 * description), generated from the definitions the CLI parses, so the README's copy cannot drift.
 */
export function startConfigReference(): string {
  const rows = START_OPTIONS.map((d) => {
    const flag = d.type === 'boolean' ? `--${d.name}` : `--${d.name} <${d.valueName ?? 'value'}>`;
    const defaultText = d.default === undefined ? '' : `\`${String(d.default)}\``;
    return `| \`${d.name}\` | \`${flag}\` | \`${envVarOf(d.name)}\` | ${typeText(d)} | ${defaultText} | ${cell(d.description)} |`;
  });
  return ['| Key | Flag | Environment variable | Type | Default | Description |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}
