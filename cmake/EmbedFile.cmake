# Turns a text file into a C++ source defining it as one NUL-terminated char array:
#   cmake -DINPUT=api/openapi.yaml -DOUTPUT=openapi_data.cc [-DSYMBOL=kOpenApiYaml]
#         [-DNAMESPACE=custodian::http] -P cmake/EmbedFile.cmake
# The text goes in as raw string literals R"oapi(...)oapi", one per chunk of whole
# lines under 16 KB (MSVC's limit for one literal; the compiler concatenates
# them), so it is embedded byte for byte with no escaping. The build fails when
# the input holds the literal's closing delimiter, or a line too long for a chunk.
if(NOT DEFINED INPUT OR NOT DEFINED OUTPUT)
  message(FATAL_ERROR "EmbedFile.cmake: pass -DINPUT=<file> -DOUTPUT=<file.cc>")
endif()
if(NOT DEFINED SYMBOL)
  set(SYMBOL kOpenApiYaml)
endif()
if(NOT DEFINED NAMESPACE)
  set(NAMESPACE custodian::http)
endif()
set(delimiter "oapi")
set(max_chunk 12000)  # bytes; well under 16 KB

file(READ "${INPUT}" content)
string(FIND "${content}" ")${delimiter}\"" found)
if(NOT found EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter ')${delimiter}\"'; "
                      "change the delimiter in cmake/EmbedFile.cmake")
endif()

set(literals "")
string(LENGTH "${content}" remaining)
while(remaining GREATER 0)
  if(remaining LESS_EQUAL max_chunk)
    set(chunk "${content}")
    set(content "")
  else()
    # Cut after the last newline within max_chunk bytes: chunks end on whole
    # lines, so no multi-byte character is split between two literals.
    string(SUBSTRING "${content}" 0 ${max_chunk} head)
    string(FIND "${head}" "\n" newline REVERSE)
    if(newline EQUAL -1)
      message(FATAL_ERROR "${INPUT} has a line longer than ${max_chunk} bytes")
    endif()
    math(EXPR cut "${newline} + 1")
    string(SUBSTRING "${content}" 0 ${cut} chunk)
    string(SUBSTRING "${content}" ${cut} -1 content)
  endif()
  string(APPEND literals "R\"${delimiter}(${chunk})${delimiter}\"\n")
  string(LENGTH "${content}" remaining)
endwhile()
if(literals STREQUAL "")
  set(literals "\"\"\n")
endif()

get_filename_component(input_name "${INPUT}" NAME)
set(source "// Generated from ${input_name} by cmake/EmbedFile.cmake. Do not edit.\n")
string(APPEND source "namespace ${NAMESPACE} {\n")
string(APPEND source "extern const char ${SYMBOL}[];\n")
string(APPEND source "const char ${SYMBOL}[] =\n${literals};\n")
string(APPEND source "}  // namespace ${NAMESPACE}\n")

file(WRITE "${OUTPUT}" "${source}")
