#ed)
vmstream-profile 1
name L0
reg 0x600000000015ff18 2 1
