import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { parseSettings } from '../../config/settings';
import { LedgerflowError } from '../../core/errors';
import { parseWorkflowSpec, type WorkflowSpec } from '../../core/workflow/spec';
import { clusterOptions } from '../../adapters/compute/manifests/options';
import { CREDENTIAL_PLACEHOLDER } from '../../adapters/compute/manifests/datasetVolumes';
import { renderManifests } from '../../adapters/compute/manifests/render';
import type { JobLaunch, ResolvedVolume, RunLaunch } from '../../ports/compute';
import { action, formatOption } from '../context';
import { CliError, EXIT } from '../exitCodes';
import { printData } from '../output';
import { collectBinding } from '../parse';
import { loadWorkflow, STDIN, workflowDir } from '../workflowFile';
import { workflowFiles } from '../localFiles';

/**
 * `ledgerflow render --target k8s|argo -f workflow.yaml`: the Kubernetes Jobs or the Argo
 * Workflow a run of the workflow would create, as YAML, without a cluster or a server. The
 * spec is checked by the same parser the server uses. Cluster choices (namespace, workspace
 * storage, images) come from the same settings the platform reads (K8S_*, WORKFLOW_*,
 * from the environment), with their defaults. Where datasets live is sealed on the ledger,
 * so each dataset appears as a hostPath volume with a placeholder path; credentials and
 * callback tokens are placeholders too.
 */
const RENDER_ID = 'render-preview';

function runOf(spec: WorkflowSpec, defaults: { image: string; jobTimeout: number; callbackUrl: string }): RunLaunch {
  const jobs: JobLaunch[] = spec.jobs.map((job) => ({
    workflowId: RENDER_ID,
    jobName: job.name,
    jobIndex: job.index,
    attempt: 1,
    command: job.command,
    image: job.image ?? spec.image ?? defaults.image,
    env: job.env,
    volumes: job.volumes.map((v) => ({ datasetId: v.id, name: v.name, mountPath: v.path })),
    resources: job.resources,
    timeoutSeconds: job.timeoutSeconds ?? defaults.jobTimeout,
    callback: { url: defaults.callbackUrl, token: CREDENTIAL_PLACEHOLDER },
  }));
  // Without a workflow timeout, the longest a run can take: every job one after another.
  const timeoutSeconds = spec.timeoutSeconds ?? jobs.reduce((n, j) => n + j.timeoutSeconds, 0);
  return { workflowId: RENDER_ID, jobs, edges: spec.edges, timeoutSeconds };
}

export function renderCommand(): Command {
  return new Command('render')
    .description('print the Kubernetes Jobs or the Argo Workflow a run of workflow.yaml would create, as YAML (no cluster needed)')
    .addOption(new Option('--target <target>', 'manifest flavour').choices(['k8s', 'argo']).makeOptionMandatory())
    .requiredOption('-f, --file <workflow.yaml>', 'the workflow (- reads it from stdin; code files are then looked up in the current directory)')
    .option(
      '-d, --dataset <name=id>',
      'set the dataset id of every volume with this name (repeatable; default: a placeholder id starting 00000000)',
      collectBinding,
    )
    .option('-n, --namespace <namespace>', 'the namespace of the objects (default: K8S_NAMESPACE, else ledgerflow)')
    .addOption(formatOption(['yaml', 'json']))
    .action(
      action(async (ctx, o: { target: 'k8s' | 'argo'; file: string; dataset?: Record<string, string>; namespace?: string }) => {
        const workflow = loadWorkflow(o.file, o.dataset ?? {}, { placeholderIds: true });
        let spec: WorkflowSpec;
        try {
          spec = parseWorkflowSpec(workflow.text);
        } catch (err) {
          if (err instanceof LedgerflowError)
            throw new CliError(EXIT.usage, err.code, `${o.file === STDIN ? 'stdin' : o.file}: invalid workflow spec`, err.details ?? []);
          throw err;
        }
        // The namespace is checked as the platform checks K8S_NAMESPACE.
        const settings = parseSettings(o.namespace === undefined ? process.env : { ...process.env, K8S_NAMESPACE: o.namespace });
        const files = workflowFiles(workflowDir(o.file), workflow.commands, o.file);
        const volumes: ResolvedVolume[] = spec.jobs.flatMap((job) =>
          job.volumes.map((v) => ({
            datasetId: v.id,
            name: v.name,
            mountPath: v.path,
            location: { kind: 'local' as const, path: `<location of the dataset of volume ${v.name}, unsealed at launch>` },
          })),
        );
        const objects = renderManifests(o.target, {
          run: runOf(spec, {
            image: settings.WORKFLOW_DEFAULT_IMAGE,
            jobTimeout: settings.WORKFLOW_DEFAULT_JOB_TIMEOUT,
            callbackUrl: `${settings.LEDGERFLOW_PUBLIC_URL === '' ? '<public URL of the platform>' : settings.LEDGERFLOW_PUBLIC_URL.replace(/\/+$/, '')}/api/callbacks/jobs`,
          }),
          files,
          volumes,
          options: clusterOptions(settings),
        });
        if (ctx.output.format === 'json') return printData(ctx.output, objects);
        // Literal blocks, never folded: code files and scripts stay readable as written.
        ctx.output.out(objects.map((object) => stringify(object, { blockQuote: 'literal', lineWidth: 0 })).join('---\n'));
      }),
    );
}
