/*
 * gen - deterministic generator of large representative test inputs.
 *
 * usage: gen KIND SIZE [SEED]
 *
 * Writes exactly SIZE bytes of KIND (random, text-like, mixed, zeros) to
 * stdout.  The output is deterministic: it depends only on KIND and SEED
 * (never on time, pid, locale or byte order; every byte is produced
 * explicitly), and each kind is one fixed stream cut at SIZE, so
 * `gen K N S` is a prefix of `gen K M S` for N < M.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BUFSZ	((size_t)1 << 20)
#define LINEMAX	256	/* room needed to build one text line or record */

/* a few hundred common English words, most frequent first */
static const char wordlist[] =
	"the of and to a in is it you that he was for on are with as I his "
	"they be at one have this from or had by not word but what some we "
	"can out other were all there when up use your how said an each she "
	"which do their time if will way about many then them write would "
	"like so these her long make thing see him two has look more day "
	"could go come did number sound no most people my over know water "
	"than call first who may down side been now find any new work part "
	"take get place made live where after back little only round man "
	"year came show every good me give our under name very through just "
	"form sentence great think say help low line differ turn cause much "
	"mean before move right boy old too same tell does set three want "
	"air well also play small end put home read hand port large spell "
	"add even land here must big high such follow act why ask men "
	"change went light kind off need house picture try us again animal "
	"point mother world near build self earth father head stand own "
	"page should country found answer school grow study still learn "
	"plant cover food sun four between state keep eye never last let "
	"thought city tree cross farm hard start might story saw far sea "
	"draw left late run while press close night real life few north "
	"open seem together next white children begin got walk example ease "
	"paper group always music those both mark often letter until mile "
	"river car feet care second book carry took science eat room friend "
	"began idea fish mountain stop once base hear horse cut sure watch "
	"color face wood main enough plain girl usual young ready above "
	"ever red list though feel talk bird soon body dog family direct "
	"pose leave";
#define MAXWORDS	512
static size_t nwords;

/* words padded to 16 bytes so they can be copied with one fixed memcpy */
static struct word {
	char	s[16];
	size_t	len;
} vocab[MAXWORDS];
static uint16_t zipf[65536];		/* 16 random bits -> word, Zipf-like */
static uint16_t succ[MAXWORDS][4];	/* each word's usual successors */

enum { RANDOM, TEXT, MIXED, ZEROS, RECORDS };

struct rng {
	uint64_t s[4];
};

struct gen {
	struct rng r, mr, tr, cr;	/* random, mixed layout, text, records */
	uint64_t seq, ts, seg;		/* record counters; rest of mixed segment */
	int mk;				/* kind of the current mixed segment */
	unsigned left, lines;		/* words left in sentence, lines in paragraph */
	size_t prev, clen;		/* previous word; carried-over token */
	size_t pos, len;		/* partially output line or record */
	char carry[32];
	uint8_t unit[LINEMAX];
};

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

#define ROTL(x, k)	((x) << (k) | (x) >> (64 - (k)))

/* xoshiro256** */
static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = ROTL(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ROTL(s[3], 45);
	return res;
}

/* little-endian on every host; compilers merge this into one store */
static inline void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
random_fill(struct rng *rp, uint8_t *p, size_t n)
{
	struct rng r = *rp;	/* local copy: output stores cannot alias it */
	uint8_t tail[8];

	for (; n >= 8; p += 8, n -= 8)
		put64(p, rng_next(&r));
	if (n > 0) {
		put64(tail, rng_next(&r));
		memcpy(p, tail, n);
	}
	*rp = r;
}

static void
vocab_init(void)
{
	uint64_t w[MAXWORDS], total = 0, cum = 0;
	const char *p = wordlist;
	size_t i, k = 0;

	for (nwords = 0; *p != '\0' && nwords < MAXWORDS; nwords++) {
		i = strcspn(p, " ");
		vocab[nwords].len = i < 15 ? i : 15;
		memcpy(vocab[nwords].s, p, vocab[nwords].len);
		p += i + (p[i] == ' ');
		/* Zipf-Mandelbrot, s = 1, q = 2.7, in integers for portability */
		w[nwords] = 10000000000ULL / (10 * nwords + 27);
		total += w[nwords];
	}
	for (i = 0; i < 65536; i++) {
		while (k < nwords - 1 && (cum + w[k]) * 65536 <= i * total)
			cum += w[k++];
		zipf[i] = (uint16_t)k;
	}
	for (i = 0; i < 4 * nwords; i++) {
		k = zipf[(i * 0x9e3779b97f4a7c15ULL) >> 48];
		succ[i / 4][i % 4] = (uint16_t)(k == i / 4 ? (k + 1) % nwords : k);
	}
}

/* Put the next token (word or number, maybe punctuated) at p. */
static size_t
text_token(struct gen *g, char *p)
{
	uint64_t r = rng_next(&g->tr), v;
	size_t n = 0, i, w;
	int cap = g->left == 0;
	char d[8];

	if (cap)
		g->left = 3 + (unsigned)(r >> 60) + (unsigned)(r >> 57 & 7);
	if ((r >> 16 & 63) == 0) {
		v = (r >> 24 & 0xffffff) % (r >> 23 & 1 ? 100000 : 100);
		do
			d[n++] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		for (i = 0; i < n; i++)
			p[i] = d[n - 1 - i];
	} else {
		/* half the time one of the previous word's usual successors;
		 * branch-free, since it is a coin flip */
		w = zipf[r & 0xffff];
		w ^= (w ^ succ[g->prev][r >> 42 & 3]) & (0 - (r >> 40 & 1));
		g->prev = w;
		memcpy(p, vocab[w].s, 16);
		n = vocab[w].len;
		if (cap && p[0] >= 'a' && p[0] <= 'z')
			p[0] = (char)(p[0] - 'a' + 'A');
	}
	if (--g->left == 0)
		p[n++] = (r >> 52 & 7) == 0 ? '?' : (r >> 52 & 7) == 1 ? '!' : '.';
	else if ((r >> 44 & 15) == 0)
		p[n++] = ',';
	return n;
}

/* One line of 60-100 columns, or a paragraph break, at dst. */
static size_t
text_line(struct gen *g, uint8_t *dst)
{
	char *p = (char *)dst;
	uint64_t r = rng_next(&g->tr);
	size_t len = g->clen, target = 60 + (size_t)(r % 41), n;

	if (g->lines-- == 0) {
		g->lines = 3 + (unsigned)(r >> 32 & 7);
		dst[0] = '\n';
		return 1;
	}
	memcpy(p, g->carry, sizeof(g->carry));
	while (len + 1 + (n = text_token(g, p + len + 1)) <= target) {
		p[len] = ' ';
		len += 1 + n;
	}
	memcpy(g->carry, p + len + 1, sizeof(g->carry));
	g->clen = n;
	p[len++] = '\n';
	return len;
}

/* One 64-byte binary record: magic, sequence, timestamp, fields, name, hash */
static size_t
rec_make(struct gen *g, uint8_t *p)
{
	uint64_t r = rng_next(&g->cr), h = 0xcbf29ce484222325ULL;
	size_t i;

	memset(p, 0, 64);
	memcpy(p, "REC1", 4);
	put64(p + 4, g->seq++);
	put64(p + 12, g->ts += 1000 + (r & 1023));
	put64(p + 20, (r >> 10 & 0xfffff) | (r >> 30 & 7) << 32);
	memcpy(p + 28, vocab[zipf[r >> 48]].s, 16);
	for (i = 0; i < 44; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	put64(p + 44, h);
	return 64;
}

/* Output a stream of whole units (lines, records), cut wherever n ends. */
static void
unit_fill(struct gen *g, size_t (*make)(struct gen *, uint8_t *), uint8_t *p,
    size_t n)
{
	size_t k;

	while (n > 0) {
		if (g->pos == g->len && n >= LINEMAX) {
			k = make(g, p);
		} else {
			if (g->pos == g->len) {
				g->len = make(g, g->unit);
				g->pos = 0;
			}
			k = g->len - g->pos < n ? g->len - g->pos : n;
			memcpy(p, g->unit + g->pos, k);
			g->pos += k;
		}
		p += k;
		n -= k;
	}
}

static void
gen_fill(struct gen *g, int kind, uint8_t *p, size_t n)
{
	uint64_t v;
	size_t k;

	switch (kind) {
	case RANDOM:
		random_fill(&g->r, p, n);
		break;
	case TEXT:
		unit_fill(g, text_line, p, n);
		break;
	case ZEROS:
		memset(p, 0, n);
		break;
	case RECORDS:
		unit_fill(g, rec_make, p, n);
		break;
	case MIXED:
		for (; n > 0; p += k, n -= k, g->seg -= k) {
			if (g->seg == 0) {
				/* 6/16 text, 4/16 random, 3/16 zeros, 3/16 records,
				 * 192 KiB to 4 MiB each; a unit cut off is dropped */
				v = rng_next(&g->mr);
				g->mk = "1111110000333444"[v & 15] - '0';
				g->seg = (192 << 10) + (v >> 8) % (3904 << 10);
				g->pos = g->len = 0;
			}
			k = g->seg < n ? (size_t)g->seg : n;
			gen_fill(g, g->mk, p, k);
		}
		break;
	}
}

static void
write_all(const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(STDOUT_FILENO, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)
				exit(1);
			fprintf(stderr, "gen: write error: %s\n", strerror(errno));
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Decimal u64, with a K/M/G[iB] suffix if allowed; -1 on junk or overflow. */
static int
parse_num(const char *s, uint64_t *out, int suffix)
{
	static const char *const sfx[] = { "", "k", "kib", "m", "mib", "g", "gib" };
	uint64_t v = 0, mul;
	size_t i, nsfx = suffix ? 7 : 1;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (i = 0; i < nsfx && strcasecmp(s, sfx[i]) != 0; i++)
		;
	if (i == nsfx)
		return -1;
	mul = (uint64_t)1 << (10 * ((i + 1) / 2));
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static const char usage[] =
    "usage: gen KIND SIZE [SEED]\n"
    "Write exactly SIZE bytes of deterministic test data to stdout.\n"
    "  KIND  random, text-like, mixed or zeros\n"
    "  SIZE  bytes, optional suffix K, M, G (or KiB, MiB, GiB: powers of 1024)\n"
    "  SEED  unsigned 64-bit decimal, default 1\n";

int
main(int argc, char **argv)
{
	static const char *const kinds[] = { "random", "text-like", "mixed", "zeros" };
	static struct gen g;
	uint64_t size, seed = 1;
	uint8_t *buf;
	size_t k;
	int kind;

	if (argc == 1 || (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		fputs(usage, stderr);
		return 2;
	}
	for (kind = 0; kind < 4 && strcmp(argv[1], kinds[kind]) != 0; kind++)
		;
	if (kind == 4) {
		fprintf(stderr, "gen: unknown kind '%s' (random, text-like, mixed, "
		    "zeros)\n", argv[1]);
		return 2;
	}
	if (parse_num(argv[2], &size, 1) != 0) {
		fprintf(stderr, "gen: invalid size '%s'\n", argv[2]);
		return 2;
	}
	if (argc == 4 && parse_num(argv[3], &seed, 0) != 0) {
		fprintf(stderr, "gen: invalid seed '%s'\n", argv[3]);
		return 2;
	}
	if ((buf = calloc(1, BUFSZ)) == NULL) {
		fprintf(stderr, "gen: out of memory\n");
		return 1;
	}
	vocab_init();
	rng_init(&g.r, seed, 1);
	rng_init(&g.mr, seed, 2);
	rng_init(&g.tr, seed, 3);
	rng_init(&g.cr, seed, 4);
	g.ts = 1700000000000ULL;
	g.lines = 5;
	g.clen = text_token(&g, g.carry);

	/* Every buffer is filled completely whatever SIZE is, so a shorter
	 * output is always a prefix of a longer one. */
	for (; size > 0; size -= k) {
		if (kind != ZEROS)
			gen_fill(&g, kind, buf, BUFSZ);
		k = size < BUFSZ ? (size_t)size : BUFSZ;
		write_all(buf, k);
	}
	return 0;
}
