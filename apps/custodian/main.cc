// custodian: wiring only. Every command lives in src/cli/.
#include "cli/app.h"

int main(int argc, char** argv) { return custodian::cli::Main(argc, argv); }
