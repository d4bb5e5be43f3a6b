# make demo — the paper's Table 1 and Figure 3 in miniature, on the CPU, with
# the tiny models bundled in models/ (models/README.md says how they were made).
#
# The method, one tool per step (every intermediate file kept in $(DEMO)/):
#   1. tts-synth-ar  AR and non-AR problems over the same key-value lists,
#                    at 10, 20 and 50 pairs              -> problems.jsonl
#   2. tts-prompt    the question as the models were trained to read it
#                                                         -> prompts.jsonl
#   3. tts-generate  N samples per problem from each model, on the CPU
#                                                         -> samples-MODEL.jsonl.zst
#   4. tts-extract   the answer in \boxed{} of each sample -> extracted.jsonl.zst
#   5. tts-vote      majority vote over random k-subsets, k = 1, 2, 4, .. N
#                                                         -> votes.jsonl
#   6. tts-score     Table 1 (accuracy at k = 1 and k = N by model, task, pairs)
#                    and Figure 3 (AR at 20 pairs, accuracy against k)
#                                                         -> table1.txt, figure3.svg
#
# Run through `make demo` (which builds first); variables can be set there:
#   make demo COUNT=20 N=8 MODELS="llama mamba2-100"
include models/task.mk

BUILD       ?= build
B           := $(BUILD)
DEMO        ?= out/demo
MODEL_DIR   ?= models
MODELS      ?= $(sort $(patsubst $(MODEL_DIR)/%/config.json,%,$(wildcard $(MODEL_DIR)/*/config.json)))
PAIRS       ?= 10 20 50
COUNT       ?= 50
N           ?= 16
SEED        ?= 1
TEMPERATURE ?= 0.8
TOP_P       ?= 1.0
MAX_TOKENS  ?= 48
FIG3_PAIRS  ?= 20
# The answer counts only when it is in \boxed{} (no last-number fallback).
EXTRACT_FLAGS ?= -r boxed
TOOLS       := tts-synth-ar tts-prompt tts-generate tts-extract tts-vote tts-score

.PHONY: demo demo-check
.DELETE_ON_ERROR:

demo: $(DEMO)/table1.txt $(DEMO)/figure3.svg
	@echo
	@echo "Table 1 (accuracy %, $(COUNT) problems per cell; k = 1: one sample, k = $(N): majority of $(N)):"
	@cat $(DEMO)/table1.txt
	@echo
	@echo "Figure 3 (AR task, $(FIG3_PAIRS) pairs, accuracy against samples): $(DEMO)/figure3.svg"

# No tool or no model: say so and stop, rather than show anything made up.
demo-check:
	@for t in $(TOOLS); do test -x $(B)/$$t || { \
		echo "make demo: $(B)/$$t is not built: that tool has not landed yet" >&2; exit 1; }; done
	@test -n "$(MODELS)" || { echo "make demo: no model in $(MODEL_DIR)/*/ (models/README.md says how they are trained)" >&2; exit 1; }
	@mkdir -p $(DEMO)

# 1. The problems.  --task both: each AR problem and its non-AR twin share the list.
$(DEMO)/problems.jsonl: models/task.mk models/tokenizer.json | demo-check
	for L in $(PAIRS); do \
		$(B)/tts-synth-ar $(SYNTH_FLAGS) --task both -L $$L -n $(COUNT) -s $(SEED) || exit 1; \
	done > $@

# 2. The prompts.
$(DEMO)/prompts.jsonl: $(DEMO)/problems.jsonl models/prompt.txt
	$(B)/tts-prompt $(PROMPT_FLAGS) $< > $@

# 3. N samples per problem; models run in parallel under make -j, one thread each.
$(DEMO)/samples-%.jsonl.zst: $(DEMO)/prompts.jsonl $(MODEL_DIR)/%/config.json
	$(B)/tts-generate -m $(MODEL_DIR)/$* -n $(N) --temperature $(TEMPERATURE) --top-p $(TOP_P) \
		--max-tokens $(MAX_TOKENS) --seed $(SEED) --threads 1 -o $@ $<

# 4. The answers.
$(DEMO)/extracted.jsonl.zst: $(MODELS:%=$(DEMO)/samples-%.jsonl.zst) | demo-check
	$(B)/tts-extract $(EXTRACT_FLAGS) -o $@ $^

# 5. Majority voting, exact expectation over random k-subsets of the N samples.
$(DEMO)/votes.jsonl: $(DEMO)/extracted.jsonl.zst
	$(B)/tts-vote -m majority $< > $@

# 6. Table 1: models as columns; rows pairs and task, at k = 1 and k = N.
$(DEMO)/table1.txt: $(DEMO)/votes.jsonl
	jq -c 'select(.k == 1 or .k == $(N))' $< | $(B)/tts-score -t -b model,pairs,task > $@

# Figure 3: the AR task at $(FIG3_PAIRS) pairs, accuracy against k, one line per model.
$(DEMO)/figure3.svg: $(DEMO)/votes.jsonl
	jq -c 'select(.task == "ar" and .pairs == $(FIG3_PAIRS))' $< \
		| $(B)/tts-score -b model -p $@ > $(DEMO)/figure3.jsonl
