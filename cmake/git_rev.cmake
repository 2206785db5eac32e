# Script mode (cmake -P), run at every build by the focal_git_rev target: writes OUT with the
# source tree's git revision, and only when it changed (so nothing recompiles for nothing). At
# configure time alone the revision would go stale in an incremental build, and results would
# name a revision that was not built.
#   cmake -DSOURCE_DIR=<repo> -DOUT=<header> -P git_rev.cmake
set(rev "unknown")
find_program(git_exe git)
if(git_exe)
  execute_process(COMMAND "${git_exe}" rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                  OUTPUT_VARIABLE out RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(rc EQUAL 0 AND out MATCHES "^[0-9a-f]+$")
    set(rev "${out}")
  endif()
endif()
set(text "// Generated at build time by cmake/git_rev.cmake.\n#define FOCAL_GIT_REV \"${rev}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")
