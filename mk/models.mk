# The bundled tiny models (models/): the task settings they were trained on,
# which `make demo` shares, and the training data, made by the project's own
# tools.  Training itself runs on a GPU machine: see models/README.md.
#   make models-data     models/data/{train,heldout}.jsonl.gz
include models/task.mk
MODEL_DATA    ?= models/data
# Seeds far from the demo's (1..) and the tests', so no problem is shared.
TRAIN_PAIRS   ?= 10 15 20 25 30 35 40 45 50
TRAIN_COUNT   ?= 12000
TRAIN_SEED    ?= 100000
HELDOUT_PAIRS ?= 10 20 50
HELDOUT_COUNT ?= 100
HELDOUT_SEED  ?= 200000

.PHONY: models-data models-data-vars
models-data: $(MODEL_DATA)/train.jsonl.gz $(MODEL_DATA)/heldout.jsonl.gz

# the settings above as shell assignments, for models/gen-data.sh
models-data-vars:
	@echo 'train_pairs="$(TRAIN_PAIRS)" train_count=$(TRAIN_COUNT) train_seed=$(TRAIN_SEED)'
	@echo 'held_pairs="$(HELDOUT_PAIRS)" held_count=$(HELDOUT_COUNT) held_seed=$(HELDOUT_SEED)'
	@echo 'synth_flags="$(SYNTH_FLAGS)" prompt_flags="$(PROMPT_FLAGS)"'

# problems -> prompts -> the target chain of thought (models/cot.jq)
$(MODEL_DATA)/%.jsonl.gz: models/tokenizer.json models/prompt.txt models/cot.jq models/task.mk | all
	@mkdir -p $(@D)
	set -e; pairs="$(if $(filter train,$*),$(TRAIN_PAIRS),$(HELDOUT_PAIRS))"; \
	for L in $$pairs; do \
		$(BUILD)/tts-synth-ar $(SYNTH_FLAGS) --task both -L $$L \
			-n $(if $(filter train,$*),$(TRAIN_COUNT),$(HELDOUT_COUNT)) \
			-s $$(( $(if $(filter train,$*),$(TRAIN_SEED),$(HELDOUT_SEED)) + L )); \
	done | $(BUILD)/tts-prompt $(PROMPT_FLAGS) | jq -c -f models/cot.jq | gzip -9n > $@.tmp
	mv $@.tmp $@
