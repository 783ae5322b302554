// One timeline for the whole demo: seconds since start, a tag naming who speaks ([typeorm], [knex],
// [server]), then the line. Every app's events go through here, so their lines interleave in order.

export type Say = (line: string) => void;

export interface Timeline {
  /** A `say` that tags each line with `[tag]`. */
  for(tag: string): Say;
}

export function createTimeline(tags: readonly string[], started = Date.now()): Timeline {
  const width = Math.max(...tags.map((tag) => tag.length)) + 2;
  const stamp = () => `+${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  return {
    for: (tag) => {
      const label = `[${tag}]`.padEnd(width);
      return (line) => console.log(`${stamp()}  ${label} ${line}`);
    },
  };
}
