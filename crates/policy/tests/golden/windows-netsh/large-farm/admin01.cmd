@echo off
rem rdsports: Windows Firewall rules (netsh) for host admin01 of deployment fabrikam.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 0 flows, 0 rules after aggregation.
netsh advfirewall firewall delete rule name="rdsports fabrikam" >nul 2>&1
exit /b 0
