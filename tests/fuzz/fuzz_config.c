/* fuzz_config.c — a model directory's config.json (and, after a line
 * "#mamba", a mamba_config.json; after "#gen", a generation_config.json)
 * through tts_config_read, for each MambaInLlama kind. */
#include "fuzz.h"
#include "config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	static const char *names[3] = {"config.json", "mamba_config.json", "generation_config.json"};
	static const char *seps[3] = {"\n#mamba\n", "\n#gen\n", "\n#end\n"};
	char *part[3];
	size_t len[3];
	for (int i = 0; i < 3; i++) {
		part[i] = fuzz_part(&data, &size, seps[i], &len[i]);
		fuzz_write(names[i], part[i], part[i] ? len[i] : 0);
	}
	for (int kind = -1; kind <= 1; kind++) {
		tts_model m;
		memset(&m, 0, sizeof m);
		enum tts_family fam;
		(void)tts_config_read(fuzz_dir(), &m, kind, &fam, err, sizeof err);
		free(m.layers); /* allocated even on some errors, as tts_model_open expects */
	}
	for (int i = 0; i < 3; i++)
		free(part[i]);
	return 0;
}
