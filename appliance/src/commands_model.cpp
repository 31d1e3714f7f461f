// generate, model info, model quantize, bench-model: the local language-model tools.

#include "commands.h"

namespace strongbox::appliance {

std::vector<Command> model_commands() {
    return {};
}

}  // namespace strongbox::appliance
