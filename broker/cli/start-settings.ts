import { type Command, Option } from 'commander';
import { UsageError } from './cli-errors.ts';
import { readStartConfigFile } from './start-config-file.ts';
import { envVarOf, START_OPTIONS, type StartOptionDefinition, type StartValues } from './start-option-definitions.ts';
import { booleanOfText, checkStartText } from './start-option-values.ts';

/** The environment variable naming `rill start`'s config file. */
export const CONFIG_ENV = 'RILL_CONFIG';

function optionOf(definition: StartOptionDefinition): Option {
  const flags = definition.type === 'boolean' ? `--${definition.name}` : `--${definition.name} <${definition.valueName ?? 'value'}>`;
  const option = new Option(flags, definition.description).env(envVarOf(definition.name));
  if (definition.type === 'choice') option.choices(definition.choices!);
  if (definition.default !== undefined && definition.type !== 'boolean') option.default(definition.default);
  return option;
}

/** Declares every `rill start` setting as a flag with its environment variable, plus `--config` and `--print-config-reference`. */
export function addStartOptions(command: Command): Command {
  for (const definition of START_OPTIONS) command.addOption(optionOf(definition));
  return command
    .addOption(new Option('--config <file>', 'read settings from a YAML or JSON file whose keys are these flag names (flags and environment variables win)').env(CONFIG_ENV))
    .addOption(new Option('--print-config-reference', 'print the table of settings (markdown) and exit'));
}

/**
 * The settings of a parsed `rill start` command line, each from the first source that has it: the
 * flag, its environment variable, the config file; absent otherwise (the broker's defaults apply).
 * Every bad setting is reported at once, one sentence each, as a UsageError.
 */
export function resolveStartValues(command: Command, env: Readonly<Record<string, string | undefined>>): StartValues {
  const problems: string[] = [];
  const configPath = command.getOptionValue('config') as string | undefined;
  const file = configPath === undefined ? undefined : readStartConfigFile(configPath);
  problems.push(...(file?.problems ?? []));
  const values: Record<string, string | boolean | undefined> = {};
  for (const definition of START_OPTIONS) {
    const key = optionOf(definition).attributeName();
    const source = command.getOptionValueSource(key);
    if (source === 'cli' || source === 'env') {
      const envVar = envVarOf(definition.name);
      // Commander only tells a boolean's variable is set; its text (true/false) is read here.
      const raw = source === 'env' && definition.type === 'boolean' ? (env[envVar] ?? '') : (command.getOptionValue(key) as string | boolean);
      if (typeof raw === 'boolean') {
        values[definition.name] = raw;
        continue;
      }
      const problem = checkStartText(definition, raw);
      if (problem !== undefined) problems.push(`${source === 'cli' ? `--${definition.name}` : envVar} ${problem}`);
      else if (definition.type === 'boolean') values[definition.name] = booleanOfText(raw) ? true : undefined;
      else values[definition.name] = raw;
    } else if (file?.values[definition.name] !== undefined) {
      values[definition.name] = file.values[definition.name];
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return values;
}
