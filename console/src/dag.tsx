import { Graph, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import type { JobView } from './api';

/** A run's jobs as a DAG (edges from `dependsOn`, i.e. the spec's `dags`), laid out left to
 * right by dagre; each node is coloured by its job's state through a CSS class. */
const W = 150;
const H = 44;

interface Placed {
  nodes: { job: JobView; x: number; y: number }[];
  edges: { points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

function place(jobs: readonly JobView[]): Placed {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const j of jobs) g.setNode(String(j.index), { width: W, height: H });
  for (const j of jobs) for (const from of j.dependsOn ?? []) g.setEdge(String(from), String(j.index));
  layout(g);
  const graph = g.graph();
  return {
    nodes: jobs.map((job) => {
      const n = g.node(String(job.index));
      return { job, x: n.x, y: n.y };
    }),
    edges: g.edges().map((e) => ({ points: g.edge(e).points ?? [] })),
    width: graph.width ?? W,
    height: graph.height ?? H,
  };
}

export function Dag({ jobs, selected, onSelect }: { jobs: readonly JobView[]; selected: string | undefined; onSelect: (job: string) => void }) {
  // The layout depends on the shape only; states change the classes.
  const shape = jobs.map((j) => `${j.index}:${(j.dependsOn ?? []).join(',')}`).join(';');
  const placed = useMemo(() => place(jobs), [shape]);
  const byIndex = new Map(jobs.map((j) => [j.index, j]));
  return (
    <svg class="dag" viewBox={`0 0 ${placed.width} ${placed.height}`} width={placed.width} role="img" aria-label="the run's jobs">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
        </marker>
      </defs>
      {placed.edges.map((e, i) => (
        <polyline key={i} class="edge" points={e.points.map((p) => `${p.x},${p.y}`).join(' ')} marker-end="url(#arrow)" />
      ))}
      {placed.nodes.map(({ job, x, y }) => {
        const live = byIndex.get(job.index) ?? job;
        return (
          <g
            key={job.index}
            class={`node s-${live.status.toLowerCase()}${selected === live.name ? ' selected' : ''}`}
            data-job={live.name}
            data-status={live.status}
            transform={`translate(${x - W / 2},${y - H / 2})`}
            onClick={() => onSelect(live.name)}
          >
            <rect width={W} height={H} rx={6} />
            <text x={10} y={18}>
              {live.name.length > 18 ? `${live.name.slice(0, 17)}…` : live.name}
            </text>
            <text x={10} y={34} class="sub">
              {live.status}
              {live.attempts > 1 ? ` · ${live.attempts} attempts` : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
