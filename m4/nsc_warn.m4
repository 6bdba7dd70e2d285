# nsc_warn.m4 - compiler warning, -Werror and sanitizer switches for nsconnect.

# NSC_CHECK_CFLAG(FLAG, VARIABLE): append FLAG to VARIABLE if the compiler takes it.
AC_DEFUN([NSC_CHECK_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  nsc_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -Werror $1"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $2="$$2 $1"],
    [AC_MSG_RESULT([no])])
  CFLAGS=$nsc_save_CFLAGS
])

# NSC_SETUP_WARNINGS: the warnings every build uses, in NSC_WARN_CFLAGS.
AC_DEFUN([NSC_SETUP_WARNINGS], [
  NSC_WARN_CFLAGS=""
  for nsc_flag in -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
                  -Wformat=2 -Wvla -Wpointer-arith -Wno-unused-parameter \
                  -Wno-format-nonliteral; do
    NSC_CHECK_CFLAG([$nsc_flag], [NSC_WARN_CFLAGS])
  done
  AC_SUBST([NSC_WARN_CFLAGS])
])

# NSC_SETUP_WERROR: --enable-werror turns warnings into errors.
AC_DEFUN([NSC_SETUP_WERROR], [
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
    [], [enable_werror=no])
  NSC_WERROR_CFLAGS=""
  AS_IF([test "x$enable_werror" = xyes], [NSC_WERROR_CFLAGS="-Werror"])
  AC_SUBST([NSC_WERROR_CFLAGS])
])

# NSC_SETUP_SANITIZERS: --enable-asan builds everything with ASan and UBSan.
AC_DEFUN([NSC_SETUP_SANITIZERS], [
  AC_ARG_ENABLE([asan],
    [AS_HELP_STRING([--enable-asan], [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
    [], [enable_asan=no])
  NSC_ASAN_CFLAGS=""
  NSC_ASAN_LDFLAGS=""
  AS_IF([test "x$enable_asan" = xyes], [
    NSC_ASAN_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
    NSC_ASAN_LDFLAGS="-fsanitize=address,undefined"
  ])
  AC_SUBST([NSC_ASAN_CFLAGS])
  AC_SUBST([NSC_ASAN_LDFLAGS])
])
