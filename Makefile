# Thin wrapper over Meson for the README's two commands.
#   make demo   build kxl and run its main job on the bundled example
#   make check  build and run every test suite (as CI does)
BUILD ?= build

.PHONY: all demo check asan clean
all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

demo: all
	./scripts/demo $(BUILD)

check: all
	meson test -C $(BUILD) --print-errorlogs --no-suite nested --no-suite fuzz

asan:
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ninja -C build-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C build-asan --print-errorlogs --suite cfg --suite xl-diff

clean:
	rm -rf $(BUILD) build-asan
