# mk/load.mk — loaders, tokenizer, tts-generate's loading commands.
# The folder-tool rule in the top Makefile leaves `%` unexpanded inside
# its $$(wildcard ...), so a folder tool would link no objects: name each
# folder tool's objects here (prerequisites only; the recipe is the top one).
$(foreach t,$(sort $(TOOLDIRS)),$(eval $(BUILD)/$(t): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(t)/*.c))))
