#include <string.h>

#include "stagelog.h"

enum pfs_stagelog_kind
pfs_stagelog_add(struct pfs_stagelog *l, const char *line, size_t len,
                 int drawn)
{
	static const char tag[] = "{\"tool\":\"";

	if (len > sizeof(tag) && len < sizeof(l->json) &&
	    memcmp(line, tag, sizeof(tag) - 1) == 0) {
		memcpy(l->json, line, len);
		l->json[len - (line[len - 1] == '\n')] = '\0';
		return PFS_LINE_STATS;
	}
	if (line[0] == '\r' || (drawn && len == 1 && *line == '\n'))
		return PFS_LINE_PROGRESS;
	if (l->msglen + len <= sizeof(l->msg)) {
		memcpy(l->msg + l->msglen, line, len);
		l->msglen += len;
	} else {
		l->msglost = 1;
	}
	return PFS_LINE_KEPT;
}

size_t
pfs_stagelog_line(const struct pfs_stagelog *l, size_t off, const char *prog,
                  size_t *skip)
{
	static const char in[] = ": stdin: ";
	const char *s = l->msg + off, *end = l->msg + l->msglen, *nl;
	size_t n, plen;

	*skip = 0;
	if (s >= end)
		return 0;
	nl = memchr(s, '\n', (size_t)(end - s));
	n = nl ? (size_t)(nl + 1 - s) : (size_t)(end - s);
	if (prog) {
		plen = strlen(prog);
		if (n > plen + sizeof(in) - 1 && memcmp(s, prog, plen) == 0 &&
		    memcmp(s + plen, in, sizeof(in) - 1) == 0)
			*skip = plen + sizeof(in) - 1;
	}
	return n;
}
