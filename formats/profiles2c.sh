#!/bin/sh
# profiles2c.sh - formats/profiles/*.profile -> C strings (gen/profiles.c).
# Each profile's name is taken from its "name" line; a file without one
# breaks the build.
set -e
if [ $# -eq 0 ]; then
    echo "profiles2c.sh: no profile files given (formats/profiles empty?)" >&2
    exit 1
fi
echo '/* Generated from the files in formats/profiles by profiles2c.sh. */'
echo '#include "config.h"'
echo '#include <stddef.h>'
echo 'struct vms_builtin_profile { const char *name; const char *text; };'
echo 'extern const struct vms_builtin_profile vms_builtin_profiles[];'
echo 'const struct vms_builtin_profile vms_builtin_profiles[] = {'
for f in "$@"; do
    name=$(sed -n 's/^name[ 	][ 	]*\([^ 	]*\).*/\1/p' "$f" | head -n 1)
    if [ -z "$name" ]; then
        echo "$f: no 'name' line" >&2
        exit 1
    fi
    printf '    { "%s",\n' "$name"
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/      "/' -e 's/$/\\n"/' "$f"
    printf '    },\n'
done
echo '    { NULL, NULL },'
echo '};'
