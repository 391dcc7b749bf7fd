/* SPDX-License-Identifier: MIT */
/* solve.h: dependency resolution with libsolv (the only place that calls it).
 * Loads every RepoIndex's Packages into a pool and installs the closure of the
 * requested packages: Depends and Pre-Depends, virtual packages, alternatives;
 * Recommends and Suggests are not followed, and `Priority: required` packages
 * nobody asked for stay out. Excluded names are never installed: a dependency
 * they would satisfy counts as met (they exist only for maintainer scripts).
 * A missing package names itself and what wanted it; an unsatisfiable
 * dependency gets libsolv's problem text. */
#pragma once

#include "package.h"
#include "repo.h"

int solve_packages(const RepoSet *repos, const char *arch, char *const *include,
                   char *const *exclude, PackageList **ret);

/* Look up exact packages by name (newest version), without their
 * dependencies: for boot-only packages such as systemd-boot-efi. */
int solve_lookup(const RepoSet *repos, const char *arch, char *const *names, PackageList **ret);
