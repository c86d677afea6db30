// Output of BIRD 2.0.12's birdc, captured from the configuration Herald renders (two
// namespaces, a router BIRD in the other; see daemon_test.ts), for the parsers' tests.

/**
 * `show protocols all`: an Established session carrying IPv4 and IPv6, one stuck in Connect
 * (TCP MD5 password mismatch), and one in Active whose BGPPeer name has a dot.
 */
export const SHOW_PROTOCOLS_ALL = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     2026-11-21T13:25:29+0000  

herald_lb  Direct     ---        up     2026-11-21T13:25:29+0000  
  Channel ipv4
    State:          UP
    Table:          master4
    Preference:     240
    Input filter:   ACCEPT
    Output filter:  REJECT
    Routes:         1 imported, 0 exported, 1 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              1          0          0          0          1
      Import withdraws:            0          0        ---          0          0
      Export updates:              0          0          0        ---          0
      Export withdraws:            0        ---        ---        ---          0
  Channel ipv6
    State:          UP
    Table:          master6
    Preference:     240
    Input filter:   ACCEPT
    Output filter:  REJECT
    Routes:         1 imported, 0 exported, 1 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              1          0          0          0          1
      Import withdraws:            0          0        ---          0          0
      Export updates:              0          0          0        ---          0
      Export withdraws:            0        ---        ---        ---          0

herald_bfd BFD        ---        up     2026-11-21T13:25:29+0000  

peer_b_v4  BGP        ---        up     2026-11-21T13:25:33+0000  Established   
  Description:    b-v4
  BGP state:          Established
    Neighbor address: 198.18.250.2
    Neighbor AS:      64513
    Local AS:         64512
    Neighbor ID:      198.18.250.2
    Local capabilities
      Multiprotocol
        AF announced: ipv4 ipv6
      Route refresh
      Graceful restart
      4-octet AS numbers
      Enhanced refresh
      Long-lived graceful restart
    Neighbor capabilities
      Multiprotocol
        AF announced: ipv4 ipv6
      Route refresh
      Graceful restart
      4-octet AS numbers
      Enhanced refresh
      Long-lived graceful restart
    Session:          external AS4
    Source address:   198.18.250.1
    Hold timer:       201.707/240
    Keepalive timer:  65.421/80
  Channel ipv4
    State:          UP
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  peer_b_v4_export_ipv4
    Routes:         0 imported, 1 exported, 0 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              0          0          0          0          0
      Import withdraws:            0          0        ---          0          0
      Export updates:              1          0          0        ---          1
      Export withdraws:            0        ---        ---        ---          0
    BGP Next hop:   198.18.250.1
  Channel ipv6
    State:          UP
    Table:          master6
    Preference:     100
    Input filter:   REJECT
    Output filter:  peer_b_v4_export_ipv6
    Routes:         0 imported, 1 exported, 0 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              0          0          0          0          0
      Import withdraws:            0          0        ---          0          0
      Export updates:              1          0          0        ---          1
      Export withdraws:            0        ---        ---        ---          0
    BGP Next hop:   fd48:bb::1 fe80::d457:7dff:fe15:3633

peer_b_wrong BGP        ---        start  2026-11-21T13:25:29+0000  Connect       
  Description:    b-wrong
  BGP state:          Connect
    Neighbor address: 198.18.250.2
    Neighbor AS:      64513
    Local AS:         64512
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  peer_b_wrong_export_ipv4

peer_tor_rack_1_55bb8c1e BGP        ---        start  2026-11-21T13:25:29+0000  Active        Socket: No route to host
  Description:    tor.rack-1
  BGP state:          Active
    Neighbor address: 198.18.250.9
    Neighbor AS:      64513
    Local AS:         64512
    Connect delay:    2.192/5
    Last error:       Socket: No route to host
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  peer_tor_rack_1_55bb8c1e_export_ipv4

`;

/** `show protocols all <name>` after `disable <name>`. */
export const SHOW_PROTOCOLS_DISABLED = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
peer_tor_rack_1_55bb8c1e BGP        ---        down   2026-11-21T13:25:41+0000  
  Description:    tor.rack-1
  BGP state:          Down
    Neighbor address: 198.18.250.9
    Neighbor AS:      64513
    Local AS:         64512
  Channel ipv4
    State:          DOWN
    Table:          master4
    Preference:     100
    Input filter:   REJECT
    Output filter:  peer_tor_rack_1_55bb8c1e_export_ipv4

`;
