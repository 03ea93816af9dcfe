#!/usr/bin/env bash
# Prints a directory on a journaled ext4 file system for the benchmarks' engines, making one
# if needed: an 8 GiB sparse image (IMAGE, default /var/tmp/xlrs-bench-ext4.img) loop-mounted
# on MOUNT (default /mnt/xlrs-bench), writable by anyone (sticky, as /tmp is). Needs root.
#
#   TMPDIR=$(bash bench/journaled-tmp.sh) bash bench/clickhouse-vs-ralph.sh OUT
#
# Why: this machine's root file system is ext4 mounted without a journal ("mounted filesystem
# ... without journal" in dmesg). Without a journal, ext4 skips every inode freed in the last
# one to six minutes when it allocates one (`recently_deleted`), so an engine that creates and
# deletes many part files slows down with the files the runs before it deleted: up to half of
# chdb's CPU in one load was that scan (bench/RESULTS.md, entry "2026-12-05 21:52–22:20"). A
# production ClickHouse runs on a journaled file system (ext4 or XFS), where the scan does
# not happen.
set -euo pipefail
IMAGE=${IMAGE:-/var/tmp/xlrs-bench-ext4.img}
MOUNT=${MOUNT:-/mnt/xlrs-bench}
if ! mountpoint -q "$MOUNT"; then
  if [ ! -f "$IMAGE" ]; then
    # Made under another name first, so that a failed mkfs leaves no image to reuse.
    truncate -s 8G "$IMAGE.new"
    mkfs.ext4 -q -F -O has_journal "$IMAGE.new" >&2
    mv "$IMAGE.new" "$IMAGE"
  fi
  mkdir -p "$MOUNT"
  mount -o loop "$IMAGE" "$MOUNT"
  chmod 1777 "$MOUNT"
fi
dev=$(basename "$(findmnt -no SOURCE "$MOUNT")")
compgen -G "/proc/fs/jbd2/$dev-*" > /dev/null || { echo "$MOUNT ($dev) has no journal" >&2; exit 1; }
echo "$MOUNT"
