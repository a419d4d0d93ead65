TITLE="udf: reject VAT indexes equal to the entry count"
CVE=CVE-2026-89525
STABLE=6.1.188
FILE=fs/udf/partition.c
OBJECT=udf
MODULES="udf"
# Needs a UDF image with a virtual partition; the check shows the module
# registered.
OBSERVABLE=no
CHECK='grep -w udf /proc/filesystems'
BUGGY='udf$'
FIXED=$BUGGY
