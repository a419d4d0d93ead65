TITLE="mm/smaps: fix race between smaps_hugetlb_range and migration"
CVE=CVE-2025-39754
STABLE=6.1.191
FILE=fs/proc/task_mmu.c
OBJECT=vmlinux
# A race with page migration; the check walks a process's mappings
# (the walk that calls the patched smaps_hugetlb_range for hugetlb VMAs).
OBSERVABLE=no
CHECK='grep -c "^Rss:" /proc/1/smaps_rollup'
BUGGY='^1$'
FIXED=$BUGGY
