/* SPDX-License-Identifier: Apache-2.0
 * t/helper/berth-test-tool.c -- small tools for the shell tests (git's test-tool):
 *   json-get PATH     read JSON on stdin, print the value at PATH
 *                     (a.b[2].c; strings raw, others as compact JSON)
 *   json-len PATH     print the length of the array/object at PATH
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib/lib.h"

static char *read_stdin(size_t *len)
{
        struct buf b = BUF_INIT;
        char tmp[65536];
        size_t n;

        while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
                buf_add(&b, tmp, n);
        return buf_detach(&b, len);
}

static const cJSON *walk(const cJSON *j, const char *path)
{
        char key[512];

        while (j && *path) {
                if (*path == '.') {
                        path++;
                        continue;
                }
                if (*path == '[') {
                        char *end;
                        long i = strtol(path + 1, &end, 10);
                        if (*end != ']')
                                return NULL;
                        j = cJSON_GetArrayItem(j, (int)i);
                        path = end + 1;
                        continue;
                }
                size_t n = strcspn(path, ".[");
                if (n >= sizeof(key))
                        return NULL;
                memcpy(key, path, n);
                key[n] = '\0';
                j = cJSON_GetObjectItemCaseSensitive(j, key);
                path += n;
        }
        return j;
}

int main(int argc, char **argv)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *root = NULL;
        size_t len;
        char *in;

        if (argc < 3) {
                fprintf(stderr, "usage: berth-test-tool json-get|json-len PATH\n");
                return 2;
        }
        berth_json_init();
        in = read_stdin(&len);
        if (berth_json_parse(in, len, &root, &err) < 0) {
                fprintf(stderr, "berth-test-tool: %s\n", err.msg);
                free(in);
                return 1;
        }
        free(in);
        const cJSON *v = walk(root, argv[2]);
        if (!v) {
                fprintf(stderr, "berth-test-tool: no value at '%s'\n", argv[2]);
                cJSON_Delete(root);
                return 1;
        }
        if (!strcmp(argv[1], "json-len")) {
                printf("%d\n", cJSON_GetArraySize(v));
        } else if (cJSON_IsString(v)) {
                printf("%s\n", v->valuestring);
        } else {
                char *s = cJSON_PrintUnformatted(v);
                printf("%s\n", s);
                free(s);
        }
        cJSON_Delete(root);
        return 0;
}
