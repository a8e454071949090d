import { Argument, Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion';

/** `ledgerflow completion bash|zsh|fish`: the shell's completion script, from the program. */
export function completionCommand(): Command {
  return new Command('completion')
    .description('print a shell completion script: source <(ledgerflow completion bash), or add it to your shell startup')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell, _options: unknown, command: Command) => {
      process.stdout.write(completionScript(command.parent ?? command, shell));
    });
}
