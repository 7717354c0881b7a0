#include <iostream>

#include "policies/easctl/easctl.h"

int main(int argc, char** argv) { return eas::easctl::run(argc, argv, std::cout, std::cerr); }
