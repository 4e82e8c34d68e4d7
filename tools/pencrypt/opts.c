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
#include "digest.h"
#include "encrec.h"
#include "err.h"
#include "kdf.h"
#include "pencrypt.h"
#include "secret.h"
#include "util.h"

static _Noreturn void
usage(void)
{
	printf("Usage: %s [-r RECIPIENT]... [-R FILE]... [KEY] [OPTION]... [FILE|-]\n"
	       "       %s -d [-i IDENTITY]... [KEY] [OPTION]... [FILE|-]\n"
	       "       %s --rekey [-i IDENTITY]... [KEY] (-r R | -R F | NEW)... [FILE|-]\n"
	       "       %s (--keygen | --keygen-identity) [-o FILE]\n"
	       "       %s --recipient-of IDENTITY\n"
	       "Encrypt the chunks of a frame stream (FILE or standard input), or decrypt\n"
	       "them with -d; every chunk is authenticated (docs/security.md).  A random\n"
	       "file key encrypts the stream and is wrapped for each recipient: public\n"
	       "keys, a key file, a password, in any mix.\n"
	       "\n"
	       "  -r, --recipient R      encrypt to the public key R (pfs-recipient-1-...)\n"
	       "  -R, --recipients-file F  encrypt to every recipient in F, one per line\n"
	       "                         ('#' comments and empty lines skipped)\n"
	       "  -i, --identity F       with -d, --rekey or --continue: open with an\n"
	       "                         identity of file F (made by --keygen-identity)\n"
	       "KEY, encrypting to it or opening with it (no KEY, -r or -i: a password\n"
	       "asked on the terminal):\n"
	       "      --key-file F       a key file made by --keygen (PFS-KEY-1-...)\n"
	       "      --raw-key-file F   32 raw bytes or 64 hex digits in file F\n"
	       "      --password-file F  a password: the first line of file F (Argon2id)\n"
	       "      --password-fd N    a password: the first line read from descriptor N\n"
	       "      --rekey            rewrap the file key of an encrypted stream for a\n"
	       "                         new set of recipients (-r, -R and NEW), opened\n"
	       "                         with KEY or -i; the sealed chunks pass unchanged\n"
	       "NEW, with --rekey, a key file or a password to wrap the file key for, as\n"
	       "the KEY options above:\n"
	       "      --new-key-file F\n"
	       "      --new-raw-key-file F\n"
	       "      --new-password-file F\n"
	       "      --new-password-fd N\n"
	       "      --keygen           write a new random key to standard output, or\n"
	       "                         with -o to a new file (mode 0600), and exit\n"
	       "      --keygen-identity  the same for a new X25519 identity (its recipient\n"
	       "                         on a comment line, and on stderr with -o)\n"
	       "      --recipient-of F   print the recipient of each identity in F ('-': stdin)\n"
	       "  -o, --output FILE      with --keygen[-identity]: the new file (never\n"
	       "                         overwritten)\n"
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
	       "                         number of CPUs, at most that)\n",
	       pfs_prog, pfs_prog, pfs_prog, pfs_prog, pfs_prog, PFS_KDF_T_MIN,
	       PFS_KDF_T_MAX, PFS_KDF_T_DEF, PFS_KDF_M_MIN >> 10, PFS_KDF_M_DEF >> 10,
	       PFS_SECRET_THREADS_MAX);
	pfs_help_common(25, PFS_HELP_RANGE | PFS_HELP_COMMON);
	printf("\n"
	       "There is no way to give a key or a password on the command line.\n"
	       "Exit status: 0 success, 1 error (also a wrong key or password), 2 bad usage.\n"
	       "Example: pencrypt --keygen-identity -o id; pencrypt --recipient-of id > r;\n"
	       "         pchunk f | pencrypt -R r > f.pfs; pencrypt -d -i id f.pfs | pjoin\n");
	pfs_stdout_done();
}

/* check_keys - the combinations of the key commands and of the options
 * that give recipients and secrets */
static void
check_keys(const struct opts *o, int nopt)
{
	int opening = o->decrypt || o->rekey || o->cont;

	if (o->keygen + o->keygen_id + !!o->rcp_of > 1)
		pfs_usage_error("give one of --keygen, --keygen-identity and "
		                "--recipient-of");
	if (o->keygen || o->keygen_id) {
		if (nopt > 1 + !!o->keygen_out + pfs_quiet || o->input)
			pfs_usage_error("%s takes no other option or file, only "
			                "-o FILE", o->keygen ? "--keygen" :
			                "--keygen-identity");
		return;
	}
	if (o->rcp_of) {
		if (nopt > 1 + pfs_quiet || o->input)
			pfs_usage_error("--recipient-of takes no other option "
			                "or file");
		return;
	}
	if (o->keygen_out)
		pfs_usage_error("-o is for --keygen and --keygen-identity: the "
		                "stream goes to standard output");
	if (o->rcps.n && (o->decrypt || o->cont))
		pfs_usage_error("-r and -R are for encrypting and --rekey%s",
		                o->decrypt ? " (-d opens with -i IDENTITY)" :
		                " (--continue takes FILE's recipients)");
	if (o->nids && !opening)
		pfs_usage_error("-i is for -d, --rekey and --continue: to "
		                "encrypt to an identity, give its recipient "
		                "with -r (see --recipient-of)");
	if (o->newkey.src != PFS_KS_NONE && !o->rekey)
		pfs_usage_error("--new-key-file, --new-password-file and "
		                "--new-password-fd are for --rekey");
	if (o->rekey && (o->decrypt || o->cipher || o->hide_name ||
	                 o->cont || o->c.range))
		pfs_usage_error("--rekey keeps the cipher, the salts and the "
		                "chunks: not with -d, --cipher, --hide-name, "
		                "--continue or --range");
	if (o->rekey && !o->rcps.n && o->newkey.src == PFS_KS_NONE)
		pfs_usage_error("--rekey needs the new recipients: -r, -R, "
		                "--new-key-file, --new-raw-key-file, "
		                "--new-password-file or --new-password-fd "
		                "(those not given lose access)");
}

static void
check_opts(struct opts *o, int nopt)
{
	struct pfs_err e;
	int pw;

	check_keys(o, nopt);
	if (o->keygen || o->keygen_id || o->rcp_of)
		return;
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
	/* is a new password wrapped? */
	pw = o->rekey ? o->newkey.src == PFS_KS_PWFILE ||
	                o->newkey.src == PFS_KS_PWFD :
	     o->decrypt ? 0 : o->key.src == PFS_KS_PWFILE ||
	                      o->key.src == PFS_KS_PWFD ||
	                      (o->key.src == PFS_KS_NONE && !o->rcps.n);
	if ((o->kdf_t || o->kdf_m) && !pw)
		pfs_usage_error("--kdf-time and --kdf-memory are for encrypting "
		                "with a password%s", o->decrypt ? " (-d reads "
		                "them from the stream)" : o->rekey ? " (with "
		                "--rekey: a new one)" : "");
	if (pfs_kdf_params(o->kdf_t, o->kdf_m, &o->t, &o->m, &e) < 0)
		pfs_usage_error("%s", e.msg);
	if (pfs_keyopt_check(&o->key, o->input, &e) < 0 ||
	    pfs_keyopt_check(&o->newkey, o->input, &e) < 0)
		pfs_usage_error("%s", e.msg);
	if (o->key.src == PFS_KS_PWFD && o->newkey.src == PFS_KS_PWFD &&
	    o->key.fd == o->newkey.fd)
		pfs_usage_error("--password-fd and --new-password-fd name the "
		                "same descriptor");
	if (!o->cipher)
		o->cipher = &pfs_enc_ciphers[0];
}

void
parse(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_KEYFILE = PFS_OPT_TOOL_BASE, OPT_RAWKEY, OPT_PWFILE,
		OPT_PWFD, OPT_NEWKEY, OPT_NEWRAW, OPT_NEWPW, OPT_NEWPWFD,
		OPT_KEYGEN, OPT_CIPHER, OPT_HIDE, OPT_KDFT, OPT_KDFM, OPT_CONT,
		OPT_KEYGEN_ID, OPT_RCP_OF, OPT_REKEY
	};
	static const struct option longopts[] = {
		{ "key-file", required_argument, NULL, OPT_KEYFILE },
		{ "raw-key-file", required_argument, NULL, OPT_RAWKEY },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "password-fd", required_argument, NULL, OPT_PWFD },
		{ "new-key-file", required_argument, NULL, OPT_NEWKEY },
		{ "new-raw-key-file", required_argument, NULL, OPT_NEWRAW },
		{ "new-password-file", required_argument, NULL, OPT_NEWPW },
		{ "new-password-fd", required_argument, NULL, OPT_NEWPWFD },
		{ "recipient", required_argument, NULL, 'r' },
		{ "recipients-file", required_argument, NULL, 'R' },
		{ "identity", required_argument, NULL, 'i' },
		{ "rekey", no_argument, NULL, OPT_REKEY },
		{ "keygen", no_argument, NULL, OPT_KEYGEN },
		{ "keygen-identity", no_argument, NULL, OPT_KEYGEN_ID },
		{ "recipient-of", required_argument, NULL, OPT_RCP_OF },
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
	const char *rarg[PFS_RCPS_MAX];
	int rfile[PFS_RCPS_MAX];
	struct pfs_err e;
	int ch, nopt = 0;
	unsigned i, nr = 0;

	memset(o, 0, sizeof(*o));
	pfs_keyopt_init(&o->key);
	pfs_keyopt_init(&o->newkey);
	pfs_common_init(&o->c, PFS_SECRET_THREADS_MAX);
	while ((ch = getopt_long(argc, argv, "do:fT:qhVr:R:i:", longopts,
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
		case OPT_NEWKEY:
		case OPT_NEWRAW:
		case OPT_NEWPW:
		case OPT_NEWPWFD:
			if (o->newkey.src != PFS_KS_NONE)
				pfs_usage_error("give one of --new-key-file, "
				                "--new-raw-key-file, "
				                "--new-password-file and "
				                "--new-password-fd");
			if (pfs_keyopt_set(&o->newkey, src[ch - OPT_NEWKEY],
			                   optarg, &e) < 0)
				pfs_usage_error("--new-%s", e.msg + 2);
			break;
		case 'r':
		case 'R':
			if (nr == PFS_RCPS_MAX)
				pfs_usage_error("-%c: more than %u recipients", ch,
				                PFS_RCPS_MAX);
			rarg[nr] = optarg;
			rfile[nr++] = ch == 'R';
			break;
		case 'i':
			if (o->nids == PFS_IDS_MAX)
				pfs_usage_error("-i: at most %u files", PFS_IDS_MAX);
			o->ids[o->nids++] = optarg;
			break;
		case OPT_REKEY:
			o->rekey = 1;
			break;
		case OPT_KEYGEN_ID:
			o->keygen_id = 1;
			break;
		case OPT_RCP_OF:
			o->rcp_of = optarg;
			break;
		case OPT_KEYGEN:
			o->keygen = 1;
			break;
		case 'o':
			pfs_opt_output(&o->keygen_out, optarg);
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
			if (pfs_kdf_parse_time(optarg, &o->kdf_t, &e) < 0)
				pfs_usage_error("--kdf-time: %s", e.msg);
			break;
		case OPT_KDFM:
			if (pfs_kdf_parse_memory(optarg, &o->kdf_m, &e) < 0)
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
	/* the recipients, in the order given, before any secret is asked
	 * for: a bad -r is a usage error, a bad -R file an error */
	/* a file named '-' is standard input: not while the stream is */
	if (!o->input || strcmp(o->input, "-") == 0) {
		for (i = 0; i < nr; i++)
			if (rfile[i] && strcmp(rarg[i], "-") == 0)
				pfs_usage_error("-R -: standard input is the "
				                "stream's: give the recipients "
				                "in a file");
		for (i = 0; i < o->nids; i++)
			if (strcmp(o->ids[i], "-") == 0)
				pfs_usage_error("-i -: standard input is the "
				                "stream's: give the identity "
				                "in a file");
	}
	if (nr && pfs_crypto_init(&e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	for (i = 0; i < nr; i++) {
		if (!rfile[i] && pfs_rcp_add(&o->rcps, rarg[i], "-r", &e) < 0)
			pfs_usage_error("%s", e.msg);
		if (rfile[i] && pfs_rcp_file(&o->rcps, rarg[i], &e) < 0)
			pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	}
	check_opts(o, nopt);
}
