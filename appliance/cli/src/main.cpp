#include "strongbox/cli/cli.h"

int main(int argc, char ** argv) {
    return strongbox::appliance::run_cli(argc, argv);
}
