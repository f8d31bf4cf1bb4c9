import { Argument, type Command } from 'commander';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { bashCompletionScript, zshCompletionScript } from './completion-script.ts';

/** `rill completion bash|zsh`: prints a completion script generated from the command tree (commands, subcommands, flags, choices). */
export function addCompletionCommand(program: Command, context: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(rill completion bash), or in zsh source <(rill completion zsh)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action(
      exitCodeOf(context, async (shell: 'bash' | 'zsh') => {
        const script = shell === 'bash' ? bashCompletionScript(program) : zshCompletionScript(program);
        context.io.out(script.replace(/\n$/, ''));
        return 0;
      }),
    );
}
