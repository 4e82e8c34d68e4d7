/*
 * opts.c - pencrypt's command line (pencrypt.h): --help, the options into
 * struct opts, and the checks of their combinations (a bad one is a
 * usage error, exit 2).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "encrec.h"
#include "err.h"
#include "kdf.h"
#include "pencrypt.h"
#include "secret.h"
#include "util.h"

static _Noreturn void
usage(void)
{
	printf("Usage: %s (--key-file F | --password-file F | --password-fd N) [OPTION]... [FILE|-]\n"
	       "       %s --keygen [-o FILE]\n"
	       "Encrypt the chunks of a frame stream (FILE or standard input), or decrypt\n"
	       "them with -d; every chunk is authenticated (docs/security.md).\n"
	       "\n"
	       "      --key-file F       key: a key file made by --keygen (PFS-KEY-1-...)\n"
	       "      --raw-key-file F   key: 32 raw bytes or 64 hex digits in file F\n"
	       "      --password-file F  password: the first line of file F (Argon2id)\n"
	       "      --password-fd N    password: the first line read from descriptor N\n"
	       "                         (no key option: asked on the terminal)\n"
	       "      --keygen           write a new random key to standard output, or\n"
	       "                         with -o to a new file (mode 0600), and exit\n"
	       "  -o, --output FILE      with --keygen: the new key file (never overwritten)\n"
	       "      --cipher NAME      aes-256-gcm (default) or chacha20-poly1305\n"
	       "      --hide-name        keep the source name out of HEAD (sealed instead)\n"
	       "      --continue FILE    encrypt with the ENCRYPT record (salts, cipher, KDF)\n"
	       "                         of FILE, an interrupted output of the same source:\n"
	       "                         a chunk FILE holds bytes of must encrypt to the\n"
	       "                         same bytes, else nothing is sealed (pipeline\n"
	       "                         process --resume uses it)\n"
	       "      --kdf-time N       Argon2id passes, %u-%u (default %u)\n"
	       "      --kdf-memory SIZE  Argon2id memory, %uM-1G (default %u MiB)\n"
	       "  -d, --decrypt          undo the top ENCRYPT record of the stream\n"
	       "  -f, --force            write the stream even to a terminal\n"
	       "  -T, --threads N        worker threads, 0 to %u (default, and 0: the\n"
	       "                         number of CPUs, at most that)\n"
	       "  -q, --quiet            no warnings\n"
	       "      --range OFF:LEN  read only the chunks holding LEN bytes from source\n"
	       "                     byte OFF (OFF: for the rest) of a stream FILE, found\n"
	       "                     through its index, as a range stream\n"
	       "      --stats[=json]     print statistics to stderr at exit (also PFS_STATS=1)\n"
	       "      --trace FILE       write a timeline of the run to FILE (Chrome trace\n"
	       "                         JSON; also PFS_TRACE=DIR, see docs/profiling.md)\n"
	       "  -h, --help             show this help\n"
	       "  -V, --version          show the version\n"
	       "\n"
	       "There is no way to give a key or a password on the command line.\n"
	       "Exit status: 0 success, 1 error (also a wrong key or password), 2 bad usage.\n"
	       "Example: pencrypt --keygen -o k; pchunk f | pencrypt --key-file k > f.pfs\n",
	       pfs_prog, pfs_prog, PFS_KDF_T_MIN, PFS_KDF_T_MAX, PFS_KDF_T_DEF,
	       PFS_KDF_M_MIN >> 10, PFS_KDF_M_DEF >> 10, PFS_SECRET_THREADS_MAX);
	pfs_stdout_done();
}

static void
check_opts(struct opts *o, int nopt)
{
	struct pfs_err e;

	if (o->keygen) {
		if (nopt > 1 + !!o->keygen_out + pfs_quiet || o->input)
			pfs_usage_error("--keygen takes no other option or file, "
			                "only -o FILE");
		return;
	}
	if (o->keygen_out)
		pfs_usage_error("-o is for --keygen: the stream goes to "
		                "standard output");
	if (o->decrypt && o->cipher)
		pfs_usage_error("-d reads the cipher from the stream: drop "
		                "--cipher");
	if (o->cont && (o->decrypt || o->cipher || o->hide_name ||
	                o->kdf_t || o->kdf_m))
		pfs_usage_error("--continue takes the cipher, the KDF and the "
		                "name hiding of its FILE: not with -d, --cipher, "
		                "--hide-name, --kdf-time or --kdf-memory");
	if (o->decrypt && o->hide_name)
		pfs_usage_error("-d restores a hidden name by itself: drop "
		                "--hide-name");
	if ((o->kdf_t || o->kdf_m) && (o->decrypt ||
	    o->key.src == PFS_KS_KEYFILE || o->key.src == PFS_KS_RAWKEY))
		pfs_usage_error("--kdf-time and --kdf-memory are for encrypting "
		                "with a password%s", o->decrypt ? " (-d reads "
		                "them from the stream)" : "");
	if (pfs_kdf_params(o->kdf_t, o->kdf_m, &o->t, &o->m, &e) < 0)
		pfs_usage_error("%s", e.msg);
	if (pfs_keyopt_check(&o->key, o->input, &e) < 0)
		pfs_usage_error("%s", e.msg);
	if (!o->cipher)
		o->cipher = &pfs_enc_ciphers[0];
}

void
parse(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_KEYFILE = PFS_OPT_TOOL_BASE, OPT_RAWKEY, OPT_PWFILE,
		OPT_PWFD, OPT_KEYGEN, OPT_CIPHER, OPT_HIDE, OPT_KDFT, OPT_KDFM,
		OPT_CONT
	};
	static const struct option longopts[] = {
		{ "key-file", required_argument, NULL, OPT_KEYFILE },
		{ "raw-key-file", required_argument, NULL, OPT_RAWKEY },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "password-fd", required_argument, NULL, OPT_PWFD },
		{ "keygen", no_argument, NULL, OPT_KEYGEN },
		{ "output", required_argument, NULL, 'o' },
		{ "cipher", required_argument, NULL, OPT_CIPHER },
		{ "hide-name", no_argument, NULL, OPT_HIDE },
		{ "kdf-time", required_argument, NULL, OPT_KDFT },
		{ "kdf-memory", required_argument, NULL, OPT_KDFM },
		{ "continue", required_argument, NULL, OPT_CONT },
		{ "decrypt", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 'T' },
		PFS_RANGE_LONGOPT,
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static const int src[] = { PFS_KS_KEYFILE, PFS_KS_RAWKEY,
	                           PFS_KS_PWFILE, PFS_KS_PWFD };
	struct pfs_err e;
	int ch, nopt = 0;

	memset(o, 0, sizeof(*o));
	pfs_keyopt_init(&o->key);
	pfs_common_init(&o->c, PFS_SECRET_THREADS_MAX);
	while ((ch = getopt_long(argc, argv, "do:fT:qhV", longopts,
	                         NULL)) != -1) {
		nopt++;
		if (pfs_common_opt(&o->c, ch, optarg))
			continue;
		switch (ch) {
		case OPT_KEYFILE:
		case OPT_RAWKEY:
		case OPT_PWFILE:
		case OPT_PWFD:
			if (pfs_keyopt_set(&o->key, src[ch - OPT_KEYFILE], optarg,
			                   &e) < 0)
				pfs_usage_error("%s", e.msg);
			break;
		case OPT_KEYGEN:
			o->keygen = 1;
			break;
		case 'o':
			o->keygen_out = optarg;
			break;
		case OPT_CIPHER:
			o->cipher = pfs_enc_cipher_by_name(optarg);
			if (!o->cipher)
				pfs_usage_error("unknown cipher '%s' (aes-256-gcm "
				                "or chacha20-poly1305)", optarg);
			break;
		case OPT_HIDE:
			o->hide_name = 1;
			break;
		case OPT_KDFT:
			if (pfs_parse_int(optarg, 1, PFS_KDF_T_MAX, &o->kdf_t,
			                  &e) < 0)
				pfs_usage_error("--kdf-time: %s", e.msg);
			break;
		case OPT_KDFM:
			if (pfs_parse_size(optarg, 1, (uint64_t)PFS_KDF_M_MAX << 10,
			                   &o->kdf_m, &e) < 0)
				pfs_usage_error("--kdf-memory: %s", e.msg);
			break;
		case OPT_CONT:
			o->cont = optarg;
			break;
		case 'd':
			o->decrypt = 1;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	o->input = pfs_one_input(argc, argv, optind);
	check_opts(o, nopt);
}
