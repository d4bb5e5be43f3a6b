# mk/cpu.mk — tts-generate's objects, named explicitly: the folder-tool
# rule of the top Makefile substitutes the stem into patsubst's pattern
# (its first '%'), so it finds no objects.
$(BUILD)/tts-generate: $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/tts-generate/*.c))
