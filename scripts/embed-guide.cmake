# embed-guide.cmake — turns docs/guide/*.md into one C source for the
# binary: the user guide the knowledge base is seeded with (src/bot/kb.h).
#
#   cmake -DGUIDE_DIR=docs/guide -DOUT=build/guide.c -P scripts/embed-guide.cmake
#
# Only CMake itself is needed (no xxd, no Python). Files are taken in name
# order; each becomes a NUL-terminated char array of its exact bytes.
if(NOT GUIDE_DIR OR NOT OUT)
  message(FATAL_ERROR "usage: cmake -DGUIDE_DIR=DIR -DOUT=FILE -P embed-guide.cmake")
endif()
file(GLOB files LIST_DIRECTORIES false "${GUIDE_DIR}/*.md")
list(SORT files)
set(src "/* DO NOT EDIT: generated from the docs/guide files by scripts/embed-guide.cmake. */\n")
string(APPEND src "#include <stddef.h>\n\n")
set(names "")
set(arrays "")
set(i 0)
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  # About 16 bytes per line keeps the file readable for a compiler error.
  string(REGEX REPLACE "((0x..,){16})" "\\1\n    " hex "${hex}")
  string(APPEND src "static const char guide_${i}[] = {\n    ${hex}0x00\n};\n")
  string(APPEND names "    \"${name}\",\n")
  string(APPEND arrays "    guide_${i},\n")
  math(EXPR i "${i} + 1")
endforeach()
if(i EQUAL 0)
  string(APPEND src "static const char guide_none[] = \"\";\n")
  set(arrays "    guide_none,\n")
  set(names "    \"\",\n")
endif()
string(APPEND src "\nconst char *const cb_kb_guide_files[] = {\n${arrays}};\n")
string(APPEND src "const char *const cb_kb_guide_names[] = {\n${names}};\n")
string(APPEND src "const size_t cb_kb_guide_count = ${i};\n")
file(WRITE "${OUT}" "${src}")
