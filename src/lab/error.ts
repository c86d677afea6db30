/** Something the user can fix (a name in use, no such node); commands print the message alone. */
export class LabError extends Error {}
