TITLE="trace/fgraph: Fix the warning caused by missing unregister notifier"
CVE=CVE-2025-39829
STABLE=6.1.191
FILE=kernel/trace/fgraph.c
OBJECT=vmlinux
# The fixed path runs when starting the graph tracer fails (no memory); the
# check starts and stops the function_graph tracer through the patched
# register_ftrace_graph.
OBSERVABLE=no
SETUP='mkdir -p /mnt/trace && mount -t tracefs none /mnt/trace'
CHECK='echo function_graph > /mnt/trace/current_tracer && cat /mnt/trace/current_tracer && echo nop > /mnt/trace/current_tracer && cat /mnt/trace/current_tracer'
BUGGY='^function_graph
nop$'
FIXED=$BUGGY
