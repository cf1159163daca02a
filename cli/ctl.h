/* `brum ctl`: drives a running brum from another shell through its control socket. */
#ifndef BRUM_CLI_CTL_H
#define BRUM_CLI_CTL_H

/* argv[0] is "ctl". Returns the exit status: 0 ok, 1 the operation failed, 2 usage error or no
 * brum running for the directory. */
int ctl_main(int argc, char** argv);

#endif
