# Finds the torch the PyTorch op is built for: the one the build's Python interpreter imports.
# Included from the top-level CMakeLists before the library is configured, because the whole
# build must use torch's C++ ABI (_GLIBCXX_USE_CXX11_ABI) and FOCAL_CUDA=AUTO follows torch.
#
# pip's isolated build environment hides site-packages; the probe then asks the same
# interpreter with -E (ignoring PYTHONPATH/PYTHONNOUSERSITE, which is how pip isolates), so
# `pip install .` builds against the torch installed where the package will run (a venv's,
# the user site's, or Debian's python3-torch). Set FOCAL_TORCH_PYTHON to use another interpreter.
find_package(Python 3.8 REQUIRED COMPONENTS Interpreter)
set(FOCAL_TORCH_PYTHON "${Python_EXECUTABLE}" CACHE FILEPATH "Python interpreter whose torch the op is built for")

set(focal_torch_probe [=[
import os, sys
import torch
import torch.utils.cpp_extension as ce
print("version=" + torch.__version__.split("+")[0])
print("cuda=" + (torch.version.cuda or ""))
print("abi=" + str(int(torch._C._GLIBCXX_USE_CXX11_ABI)))
print("include=" + ";".join(ce.include_paths()))
print("libdir=" + ";".join(ce.library_paths()))
]=])
set(focal_torch_out "")
foreach(focal_flags "" "-E")
  execute_process(COMMAND ${FOCAL_TORCH_PYTHON} ${focal_flags} -c "${focal_torch_probe}"
                  RESULT_VARIABLE focal_rc OUTPUT_VARIABLE focal_torch_out ERROR_VARIABLE focal_torch_err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(focal_rc EQUAL 0)
    break()
  endif()
endforeach()
if(NOT focal_rc EQUAL 0)
  message(FATAL_ERROR "focal: FOCAL_PYTHON=ON needs torch importable by ${FOCAL_TORCH_PYTHON} "
          "(Debian: apt-get install python3-torch libtorch-dev; or pip install torch):\n${focal_torch_err}")
endif()
string(REPLACE "\n" ";" focal_torch_lines "${focal_torch_out}")
foreach(line IN LISTS focal_torch_lines)
  if(line MATCHES "^(version|cuda|abi)=(.*)$")
    set(FOCAL_TORCH_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endif()
endforeach()
# include= and libdir= hold ';'-separated lists: read them from the raw output.
string(REGEX MATCH "include=([^\n]*)" _ "${focal_torch_out}")
set(FOCAL_TORCH_include "${CMAKE_MATCH_1}")
string(REGEX MATCH "libdir=([^\n]*)" _ "${focal_torch_out}")
set(FOCAL_TORCH_libdir "${CMAKE_MATCH_1}")
list(GET FOCAL_TORCH_include 0 focal_torch_include0)
if(NOT EXISTS "${focal_torch_include0}/torch/library.h")
  message(FATAL_ERROR "focal: torch ${FOCAL_TORCH_version} has no C++ headers in ${focal_torch_include0} "
          "(Debian's python3-torch: apt-get install libtorch-dev)")
endif()
message(STATUS "focal: torch ${FOCAL_TORCH_version} (CUDA: ${FOCAL_TORCH_cuda}, C++11 ABI: ${FOCAL_TORCH_abi})")

# The library and the op share std::string across calls: one ABI for the whole build.
add_compile_definitions(_GLIBCXX_USE_CXX11_ABI=${FOCAL_TORCH_abi})
# A CPU-only torch cannot hand the op CUDA tensors: no CUDA kernels then, unless asked for.
if(FOCAL_CUDA STREQUAL "AUTO" AND FOCAL_TORCH_cuda STREQUAL "")
  set(FOCAL_CUDA OFF)
endif()
