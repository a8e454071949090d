import { Command, Option } from 'commander';
import { action } from '../context';
import { CliError, EXIT } from '../exitCodes';

/**
 * `ledgerflow render --target k8s|argo -f workflow.yaml`: the Kubernetes or Argo manifests a
 * run of the workflow would create, as YAML, without a cluster.
 */
export function renderCommand(): Command {
  return new Command('render')
    .description('print the Kubernetes Jobs or the Argo Workflow a run of workflow.yaml would create, as YAML')
    .addOption(new Option('--target <target>', 'manifest flavour').choices(['k8s', 'argo']).makeOptionMandatory())
    .requiredOption('-f, --file <workflow.yaml>', 'the workflow')
    .action(
      action(async () => {
        throw new CliError(EXIT.failure, 'not_available', 'render is not available in this build: the manifest builders (branch k8s) have not been merged yet');
      }),
    );
}
