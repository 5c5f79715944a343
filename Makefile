# Thin wrapper over Meson for the README's two commands.
#   make demo   build kxl and run its main job on the bundled example
#   make check  build and run every test suite (as CI does)
#   make asan   the same fast suites under ASan and UBSan (ASAN_BUILD)
#   make tsan   the vmm and life suites under ThreadSanitizer (TSAN_BUILD;
#               by hand, not in CI: about 6 minutes in the nested host)
# The vmm and life suites (which need KVM) run as one test, `kvm`
# (tests/nested/run-kvm-suites): directly where /dev/kvm is fast, inside the
# nested KVM host otherwise, reporting each of their tests by name (-v).
# KXL_KVM_SUITES=all tells it that the direct suites were left out.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FAST = --no-suite nested --no-suite fuzz --no-suite bench
KVM_DIRECT = --no-suite vmm --no-suite life --no-suite kvm

.PHONY: all demo check asan tsan fuzz clean
all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

demo: all
	./scripts/demo $(BUILD)

check: all
	meson test -C $(BUILD) --print-errorlogs $(FAST) $(KVM_DIRECT)
	KXL_KVM_SUITES=all meson test -C $(BUILD) --print-errorlogs --suite kvm -v
	meson test -C $(BUILD) --print-errorlogs --suite nested

# The sanitizer options reach the vmm and life tests in the nested host too.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
asan:
	[ -d $(ASAN_BUILD) ] || meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dstatic_kxl=false
	ninja -C $(ASAN_BUILD)
	$(SAN_ENV) meson test -C $(ASAN_BUILD) --print-errorlogs $(FAST) $(KVM_DIRECT)
	$(SAN_ENV) KXL_KVM_SUITES=all meson test -C $(ASAN_BUILD) --print-errorlogs --suite kvm -v

# Every data race TSan reports fails the test that hit it (exit status 66).
tsan:
	[ -d $(TSAN_BUILD) ] || meson setup $(TSAN_BUILD) -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug -Dstatic_kxl=false
	ninja -C $(TSAN_BUILD)
	TSAN_OPTIONS=second_deadlock_stack=1 KXL_KVM_SUITES=all meson test -C $(TSAN_BUILD) --print-errorlogs --suite kvm -v

# libFuzzer targets need clang; only they are built in build-fuzz, each run
# for a bounded time (see tests/fuzz/meson.build and tests/boot).
fuzz:
	[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dwerror=false -Dbuildtype=debugoptimized
	ninja -C build-fuzz $$(meson introspect build-fuzz --targets | python3 -c \
	  'import json,sys; print(" ".join(t["filename"][0].split("build-fuzz/",1)[1] for t in json.load(sys.stdin) if t["name"].startswith("fuzz")))')
	meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-fuzz
