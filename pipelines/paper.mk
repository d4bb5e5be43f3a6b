# pipelines/paper.mk — the experiments of "Test-time scaling meets associative
# memory" (Chaudhry, Kulkarni & Pehlevan), one target each, given model
# directories and dataset files as they are downloaded.
#
#   make -f pipelines/paper.mk MODELS="DIR..." GSM8K=FILE MATH500=FILE TARGET...
#
#   fig1    GSM8K: majority voting against N, one line per model (Figure 1)
#   fig2    GSM8K: the same runs against wall-clock time per problem (Figure 2)
#   fig4    MATH500: majority voting against N (Figure 4)
#   fig5    GSM8K: weighted voting and best-of-N with an outcome reward model
#           REWARD_MODEL=DIR, beside majority voting (Figure 5)
#   table1  the synthetic AR / non-AR tasks at 10, 20, 50 pairs (Table 1)
#   fig3    the AR task at 20 pairs: accuracy against N (Figure 3)
#   all     every one of them
#
# Each step is one tool and one file under $(OUT)/<experiment>/, kept, so any
# stage can be rerun alone (delete its file):
#   prompts.jsonl -> samples-MODEL.msgpack.zst -> extracted-MODEL.msgpack.zst
#   -> votes-MODEL.jsonl -> scores.jsonl, table.txt, figureN.svg
# Sampling resumes where it stopped: tts-generate writes NAME.part with
# --resume and renames it when complete.  `make -j` runs the models of an
# experiment in parallel; give each its own GPU with DEVICE_<model name>=cuda:1
# (the model name is the directory's base name).
#
# The defaults follow the paper (search-and-learn's sampling settings); every
# one is a variable.

MODELS        ?=
GSM8K         ?= data/gsm8k/test.jsonl
MATH500       ?= data/math500/test.jsonl
REWARD_MODEL  ?=
# How the reward model reads a sample (tts-generate(1), REWARD MODELS).
RM_FLAGS      ?= --rm-format llama3
# Figure 5's models, by name (the paper shows Mamba2InLlama_0_50 alone).
FIG5_MODELS   ?= $(NAMES)
OUT           ?= out/paper
BUILD         ?= build
B             := $(BUILD)

N             ?= 128
MAX_TOKENS    ?= 768
TEMPERATURE   ?= 0.8
TOP_P         ?= 1.0
SEED          ?= 0
DEVICE        ?= cuda
GEN_FLAGS     ?=
# The \boxed{} chain-of-thought instruction in the Llama-3 chat format.
PROMPT_FLAGS  ?= -t cot -c llama3
# Use only the first LIMIT problems of a dataset (empty: all of them).
LIMIT         ?=
EXTRACT_FLAGS ?=

# Table 1 / Figure 3: keys are whole-word tokens of the first model's tokenizer
# (the paper's models all share Llama-3's).
PAIRS         ?= 10 20 50
TABLE1_COUNT  ?= 500
SYNTH_N       ?= $(N)
SYNTH_VOCAB   ?= $(firstword $(MODELS))/tokenizer.json
SYNTH_FLAGS   ?= --vocab $(SYNTH_VOCAB)
FIG3_PAIRS    ?= 20

NAMES := $(notdir $(patsubst %/,%,$(MODELS)))
dir_of = $(firstword $(foreach d,$(MODELS),$(if $(filter $(1),$(notdir $(patsubst %/,%,$(d)))),$(patsubst %/,%,$(d)))))
head_limit = $(if $(LIMIT),| head -n $(LIMIT))

.PHONY: all fig1 fig2 fig3 fig4 fig5 table1 check
.PRECIOUS: $(OUT)/gsm8k/rewarded-%.msgpack.zst
all: fig1 fig2 fig4 fig5 table1 fig3

check:
	@test -n "$(MODELS)" || { echo "paper.mk: set MODELS to one or more model directories" >&2; exit 1; }
	@for d in $(MODELS); do test -f $$d/config.json || { \
		echo "paper.mk: $$d: no config.json (a model directory as downloaded)" >&2; exit 1; }; done

# --- prompts, one file per experiment --------------------------------------
$(OUT)/gsm8k/prompts.jsonl: $(GSM8K) | check
	@mkdir -p $(@D)
	$(B)/tts-prompt -d gsm8k $(PROMPT_FLAGS) $< $(head_limit) > $@
$(OUT)/math500/prompts.jsonl: $(MATH500) | check
	@mkdir -p $(@D)
	$(B)/tts-prompt -d math $(PROMPT_FLAGS) $< $(head_limit) > $@
# AR and non-AR twins over the same lists, TABLE1_COUNT per number of pairs.
$(OUT)/synth/prompts.jsonl: | check
	@mkdir -p $(@D)
	for L in $(PAIRS); do \
		$(B)/tts-synth-ar $(SYNTH_FLAGS) --task both -L $$L -n $(TABLE1_COUNT) -s $(SEED) || exit 1; \
	done | $(B)/tts-prompt -d synth $(PROMPT_FLAGS) > $@

# --- per (experiment, model): sample, extract, vote -------------------------
# $(1) experiment, $(2) model name, $(3) samples per problem
define per_model
$(OUT)/$(1)/samples-$(2).msgpack.zst: $(OUT)/$(1)/prompts.jsonl
	$(B)/tts-generate -m $(call dir_of,$(2)) -n $(3) --temperature $(TEMPERATURE) \
		--top-p $(TOP_P) --max-tokens $(MAX_TOKENS) --seed $(SEED) \
		--device $$(or $$(DEVICE_$(2)),$(DEVICE)) $(GEN_FLAGS) \
		-f msgpack -z -o $$@.part --resume $$<
	mv $$@.part $$@
$(OUT)/$(1)/extracted-$(2).msgpack.zst: $(OUT)/$(1)/samples-$(2).msgpack.zst
	$(B)/tts-extract $(EXTRACT_FLAGS) -o $$@ $$<
$(OUT)/$(1)/votes-$(2).jsonl: $(OUT)/$(1)/extracted-$(2).msgpack.zst
	$(B)/tts-vote -m majority $$< > $$@
endef
$(foreach m,$(NAMES),$(foreach e,gsm8k math500,$(eval $(call per_model,$(e),$(m),$(N)))))
$(foreach m,$(NAMES),$(eval $(call per_model,synth,$(m),$(SYNTH_N))))

# --- scores, tables, figures -------------------------------------------------
votes = $(NAMES:%=$(OUT)/$(1)/votes-%.jsonl)

# Figure 1 / 4: accuracy against N (and against time beside it).
.SECONDEXPANSION:
$(OUT)/%/scores.jsonl: $$(call votes,$$*) | check
	cat $^ | $(B)/tts-score -b model -p $(OUT)/$*/figure.svg > $@
$(OUT)/%/table.txt: $$(call votes,$$*) | check
	cat $^ | $(B)/tts-score -t -b model -c model > $@

fig1: $(OUT)/gsm8k/scores.jsonl $(OUT)/gsm8k/table.txt
	cp $(OUT)/gsm8k/figure.svg $(OUT)/figure1.svg
	@cat $(OUT)/gsm8k/table.txt; echo "Figure 1: $(OUT)/figure1.svg"
fig4: $(OUT)/math500/scores.jsonl $(OUT)/math500/table.txt
	cp $(OUT)/math500/figure.svg $(OUT)/figure4.svg
	@cat $(OUT)/math500/table.txt; echo "Figure 4: $(OUT)/figure4.svg"

# Figure 2: the GSM8K runs against attributed wall-clock time per problem.
$(OUT)/figure2.svg: $(call votes,gsm8k) | check
	cat $^ | $(B)/tts-score -b model -x ms -p $@ > $(OUT)/gsm8k/scores-ms.jsonl
fig2: $(OUT)/figure2.svg
	@echo "Figure 2: $<"

# Figure 5: the reward model scores every GSM8K sample, then three methods.
$(OUT)/gsm8k/rewarded-%.msgpack.zst: $(OUT)/gsm8k/extracted-%.msgpack.zst
	@test -n "$(REWARD_MODEL)" || { echo "paper.mk: fig5 needs REWARD_MODEL=DIR (an outcome reward model)" >&2; exit 1; }
	@$(B)/tts-generate -h | grep -q -e --reward || { \
		echo "paper.mk: fig5: this tts-generate has no --reward yet (reward scoring, issue G)" >&2; exit 1; }
	$(B)/tts-generate --reward -m $(REWARD_MODEL) $(RM_FLAGS) --device $(DEVICE) -f msgpack -z -o $@.part $<
	mv $@.part $@
$(OUT)/gsm8k/votes5-%.jsonl: $(OUT)/gsm8k/rewarded-%.msgpack.zst
	$(B)/tts-vote -m majority,weighted,best $< > $@
$(OUT)/figure5.svg: $(FIG5_MODELS:%=$(OUT)/gsm8k/votes5-%.jsonl) | check
	cat $^ | $(B)/tts-score -b model -p $@ > $(OUT)/gsm8k/scores5.jsonl
	cat $^ | $(B)/tts-score -t -b model -c model > $(OUT)/gsm8k/table5.txt
fig5: $(OUT)/figure5.svg
	@cat $(OUT)/gsm8k/table5.txt; echo "Figure 5: $<"

# Table 1: one sample (k = 1), models as columns, rows pairs and task.
$(OUT)/table1.txt: $(call votes,synth) | check
	cat $^ | jq -c 'select(.k == 1)' | $(B)/tts-score -t -b model,pairs,task > $@
table1: $(OUT)/table1.txt
	@cat $<
# Figure 3: the AR task at FIG3_PAIRS pairs against N.
$(OUT)/figure3.svg: $(call votes,synth) | check
	cat $^ | jq -c 'select(.task == "ar" and .pairs == $(FIG3_PAIRS))' \
		| $(B)/tts-score -b model -p $@ > $(OUT)/synth/scores-fig3.jsonl
fig3: $(OUT)/figure3.svg
	@echo "Figure 3: $<"
