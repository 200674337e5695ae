/* placeholder: replaced by the real main shortly */
int main(void);
int main(void) { return 0; }
