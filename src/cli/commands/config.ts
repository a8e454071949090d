import { Command } from 'commander';
import { action, formatOption } from '../context';
import { CONFIG_KEYS, configPath, readConfigFile, setConfigValue } from '../config';
import { fields, printData } from '../output';

/** `ledgerflow config set|unset|show|path`: the endpoint and token in the config file. */
const mask = (token: string | undefined) => (token === undefined ? '(unset)' : `${token.slice(0, 4)}…`);

export function configCommand(): Command {
  const config = new Command('config').description(`the CLI's settings (${CONFIG_KEYS.join(', ')}) in its config file`);

  config
    .command('set')
    .description('store a setting, e.g. `config set endpoint http://127.0.0.1:7071/api` (the file is written with mode 0600)')
    .argument('<key>', CONFIG_KEYS.join(' | '))
    .argument('<value>', 'the value')
    .action(
      action(async (ctx, key: string, value: string) => {
        const path = configPath();
        setConfigValue(path, key, value);
        if (ctx.output.structured) return printData(ctx.output, { path, key, set: true });
        ctx.output.out(`${key} set in ${path}\n`);
      }),
    );

  config
    .command('unset')
    .description('remove a setting from the file')
    .argument('<key>', CONFIG_KEYS.join(' | '))
    .action(
      action(async (ctx, key: string) => {
        const path = configPath();
        setConfigValue(path, key, undefined);
        if (ctx.output.structured) return printData(ctx.output, { path, key, set: false });
        ctx.output.out(`${key} removed from ${path}\n`);
      }),
    );

  config
    .command('show')
    .description('the settings in effect and where each comes from (the token masked)')
    .addOption(formatOption(['json', 'yaml']))
    .action(
      action(async (ctx) => {
        const path = configPath();
        const { endpoint, token, sources } = ctx.config;
        const shown = {
          path,
          endpoint,
          endpointFrom: sources.endpoint,
          token: mask(token),
          tokenFrom: sources.token,
          file: { ...readConfigFile(path), token: undefined },
        };
        if (ctx.output.structured) return printData(ctx.output, shown);
        ctx.output.out(
          fields([
            ['config file', path],
            ['endpoint', `${endpoint} (${sources.endpoint})`],
            ['token', `${mask(token)} (${sources.token})`],
          ]),
        );
      }),
    );

  config
    .command('path')
    .description('where the config file is')
    .action(
      action(async (ctx) => {
        if (ctx.output.structured) return printData(ctx.output, { path: configPath() });
        ctx.output.out(`${configPath()}\n`);
      }),
    );

  return config;
}
