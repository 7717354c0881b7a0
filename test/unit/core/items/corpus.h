// Reads a message of test/corpus/mime/ (see generate.py there).
#pragma once

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

inline std::string readCorpus(const std::string& name) {
  const std::string path = std::string(EAS_SOURCE_DIR) + "/test/corpus/mime/" + name + ".eml";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
