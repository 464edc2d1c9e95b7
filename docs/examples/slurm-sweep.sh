#!/usr/bin/env bash
# A whole sweep (the scenario's [sweep]: variants x seeds, N shards each)
# on Slurm: one array task per line of the job list, then one job that runs
# every merge once all tasks succeeded.
#
# Usage, from the directory holding the inputs:
#   docs/examples/slurm-sweep.sh topologies/multi-site.toml scenarios/multi-site.toml 4 sweep
# Results: sweep/<variant>/seed-<seed>/results. Task k (from 1) runs line k
# of sweep/jobs.txt; a failed task reruns alone with
#   sbatch --array=<k> sweep/array.sbatch
set -euo pipefail
topology=$1 scenario=$2 shards=$3 root=${4:-sweep}
mkdir -p "$root/logs"
callflow sweep "$topology" "$scenario" --shards "$shards" --out "$root" >"$root/jobs.txt"
callflow sweep "$topology" "$scenario" --shards "$shards" --out "$root" --merges >"$root/merges.txt"
tasks=$(wc -l <"$root/jobs.txt")

cat >"$root/array.sbatch" <<SBATCH
#!/bin/bash
#SBATCH --job-name=callflow-sweep
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --output=$root/logs/task-%a.out
set -euo pipefail
cd "\${SLURM_SUBMIT_DIR:-.}"
line=\$(sed -n "\${SLURM_ARRAY_TASK_ID}p" "$root/jobs.txt")
echo "task \${SLURM_ARRAY_TASK_ID}: \$line"
eval "\$line"
SBATCH

array=$(sbatch --parsable --array=1-"$tasks" "$root/array.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$array" --job-name=callflow-merge \
  --output="$root/logs/merge.out" --wrap="set -e; . $root/merges.txt")
echo "submitted $tasks shard tasks as array $array; merges as job $merge"
