/*
 * A test-only fault hook: with UNIKD_FAULT=STEP in its environment,
 * unikd kills itself with SIGKILL when it reaches fault_point("STEP"),
 * so a test can stop it between a change of the host and its record in
 * the store, exactly where a crash or a kill -9 could, and check what
 * the next start makes of it. Without the variable a fault point costs
 * one comparison of a cached pointer.
 */
#ifndef UNIKD_FAULT_H
#define UNIKD_FAULT_H

void fault_point(const char *step);

#endif
