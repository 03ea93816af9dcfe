#!/usr/bin/env bash
# Prints a directory on a journaled ext4 file system for the benchmarks' engines, making one
# if needed: an 8 GiB sparse image (IMAGE, default /var/tmp/xlrs-bench-ext4.img) loop-mounted
# on MOUNT (default /mnt/xlrs-bench). Needs root.
#
#   TMPDIR=$(bash bench/journaled-tmp.sh) bash bench/clickhouse-vs-ralph.sh OUT
#
# Why: this machine's root file system is ext4 mounted without a journal ("mounted filesystem
# ... without journal" in dmesg). Without a journal, ext4 skips every inode freed in the last
# one to six minutes when it allocates one (`recently_deleted`), so an engine that creates and
# deletes many part files slows down with the files the runs before it deleted: a third of
# chdb's CPU in one load was that scan (bench/RESULTS.md, 2026-12-05 22:00). A production
# ClickHouse runs on a journaled file system (ext4 or XFS), where the scan does not happen.
set -euo pipefail
IMAGE=${IMAGE:-/var/tmp/xlrs-bench-ext4.img}
MOUNT=${MOUNT:-/mnt/xlrs-bench}
if ! mountpoint -q "$MOUNT"; then
  if [ ! -f "$IMAGE" ]; then
    truncate -s 8G "$IMAGE"
    mkfs.ext4 -q -F "$IMAGE" >&2
  fi
  mkdir -p "$MOUNT"
  mount -o loop "$IMAGE" "$MOUNT"
fi
dev=$(basename "$(findmnt -no SOURCE "$MOUNT")")
ls /proc/fs/jbd2 | grep -q "^$dev-" || { echo "$MOUNT ($dev) has no journal" >&2; exit 1; }
echo "$MOUNT"
